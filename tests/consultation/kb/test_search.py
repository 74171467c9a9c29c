"""Search: Chinese phrases inside sentences, English typos, filters, ranking, safe snippets."""

from consultation.kb.search import search_articles, tokenize

FOREX = {
    "title_zh": "个人购汇年度额度",
    "body_zh": "境内个人每人每年的便利化购汇额度为等值5万美元，当年未用完的额度不能结转。",
    "title_en": "Annual foreign currency purchase quota",
    "body_en": "Each resident has an annual quota equivalent to USD 50,000 for buying currency.",
}
RATES = {
    "title_zh": "外汇牌价",
    "body_zh": "外汇牌价每日更新，外汇现钞和现汇价格不同，额度另行说明。",
    "title_en": "Exchange rates",
    "body_en": "Exchange rates are published daily.",
}
MORTGAGE = {
    "title_zh": "房贷提前还款",
    "body_zh": "客户可预约提前还款，贷款发放满一年后免收违约金。",
    "title_en": "Repaying a mortgage early",
    "body_en": "Book an early repayment 15 working days ahead; no penalty after the first year.",
}


def test_tokenizer_cuts_chinese_into_bigrams_and_folds_english():
    assert tokenize("外汇额度") == ["外汇", "汇额", "额度"]
    assert tokenize("卡") == ["卡"]
    assert tokenize("The Cards and policies") == ["card", "policy"]
    assert tokenize("ＡＴＭ机") == ["atm", "机"]  # full-width letters folded


def test_chinese_phrase_inside_a_sentence_ranks_its_article_first(publish):
    forex = publish(**FOREX)
    publish(**RATES)
    publish(**MORTGAGE)
    hits = search_articles("请问我每年的购汇额度是多少")
    assert hits[0].article_id == forex.pk
    assert "<mark>" in hits[0].snippet and "额度" in hits[0].snippet


def test_phrase_beats_repeated_single_word(publish):
    forex = publish(**FOREX)
    rates = publish(**RATES)
    hits = search_articles("便利化购汇额度")
    assert [h.article_id for h in hits][:2] == [forex.pk, rates.pk]
    assert hits[0].score > hits[1].score


def test_english_typo_finds_the_article(publish):
    mortgage = publish(**MORTGAGE)
    publish(**FOREX)
    assert search_articles("mortgage prepaymnet")[0].article_id == mortgage.pk
    assert search_articles("morgage")[0].article_id == mortgage.pk
    # Words further than the edit distance allow find nothing.
    assert search_articles("mxrtgxgx") == []  # three edits


def test_typo_vocabulary_follows_new_articles(publish):
    publish(**FOREX)
    assert search_articles("mortgaje") == []  # vocabulary cached without "mortgage"
    mortgage = publish(**MORTGAGE)
    assert search_articles("mortgaje")[0].article_id == mortgage.pk


def test_filters_by_category_and_product(publish, accounts, debit_card):
    in_cards = publish(
        title_en="Card limits", body_en="Daily limit for cards.", products=[debit_card]
    )
    in_accounts = publish(title_en="Account limits", body_en="Daily limit.", category=accounts)
    assert {h.article_id for h in search_articles("limit")} == {in_cards.pk, in_accounts.pk}
    assert [h.article_id for h in search_articles("limit", category="accounts")] == [in_accounts.pk]
    assert [h.article_id for h in search_articles("limit", product="debit-card")] == [in_cards.pk]
    assert search_articles("limit", category="nope") == []


def test_title_match_ranks_above_body_match(publish):
    body_only = publish(title_en="Branch services", body_en="You can also ask about insurance.")
    in_title = publish(title_en="Insurance products", body_en="What we sell.")
    assert [h.article_id for h in search_articles("insurance")] == [in_title.pk, body_only.pk]


def test_scores_between_zero_and_one_and_unpublished_not_found(publish, draft):
    publish(**FOREX)
    draft(title_en="Secret draft quota", body_en="quota quota")
    hits = search_articles("quota")
    assert len(hits) == 1
    assert 0 < hits[0].score <= 1


def test_snippet_escapes_html(publish):
    publish(
        title_en="Scripts",
        body_en='Never paste <script>alert("x")</script> into the quota field.',
    )
    snippet = search_articles("quota")[0].snippet
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<mark>quota</mark>" in snippet


def test_query_of_only_markup_or_stopwords_finds_nothing(publish):
    publish(**FOREX)
    assert search_articles("<script>the</script>") == []
    assert search_articles("   ") == []


def test_snippet_in_active_language_with_fallback(publish, settings):
    from django.utils import translation

    publish(**FOREX)
    with translation.override("zh-hans"):
        hit = search_articles("quota")[0]
    # Chinese reader, English query: the English body holds the match.
    assert "<mark>quota</mark>" in hit.snippet
    assert hit.title == FOREX["title_zh"]


def test_reindex_command_rebuilds_the_index(publish):
    import io

    from django.core.management import call_command

    from consultation.models import SearchTerm

    article = publish(**FOREX)
    SearchTerm.objects.all().delete()
    assert search_articles("quota") == []
    out = io.StringIO()
    call_command("kb_reindex", stdout=out)
    assert "1/1 articles" in out.getvalue()
    assert search_articles("quota")[0].article_id == article.pk
