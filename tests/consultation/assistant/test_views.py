"""The assistant on staff pages: the greeter's floor view and the suggestion fragment."""

from django.urls import reverse

from bankservice.branches.models import Role

URL = reverse("consultation:assistant-suggest")


def test_the_floor_view_shows_the_panel(client, make_staff, branch_a, branch_services):
    greeter = make_staff(Role.GREETER, branch=branch_a)
    client.force_login(greeter)
    page = client.get(reverse("reception:floor"), {"branch": branch_a.pk}).content.decode()
    assert "What does the customer need?" in page
    assert f'name="branch" value="{branch_a.pk}"' in page
    assert URL in page


def test_fragment_suggests_the_queue_and_offers_the_ticket(
    trained, client, make_staff, branch_a, branch_services, django_assert_max_num_queries
):
    greeter = make_staff(Role.GREETER, branch=branch_a)
    client.force_login(greeter)
    params = {"q": "我的银行卡丢了，要挂失", "branch": branch_a.pk}
    client.get(URL, params, HTTP_HX_REQUEST="true")  # loads the model
    with django_assert_max_num_queries(14):
        response = client.get(URL, params, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a fragment for htmx
    service = branch_services["accounts"]
    assert f"{service.prefix} · {service.name}" in html
    assert f'name="service_type" value="{service.pk}"' in html  # the one-click issue


def test_without_script_the_answer_is_a_whole_page(trained, client, teller, branch_services):
    client.force_login(teller)
    response = client.get(URL, {"q": "I want to apply for a mortgage"})
    html = response.content.decode()
    assert "<html" in html and "What does the customer need?" in html
    assert 'value="I want to apply for a mortgage"' in html


def test_empty_question_shows_a_message(trained, client, teller):
    client.force_login(teller)
    response = client.get(URL, {"q": " "}, HTTP_HX_REQUEST="true")
    assert "Type the customer" in response.content.decode()


def test_needs_the_permission_and_a_branch_of_ones_own(
    trained, client, make_staff, teller, branch_a, branch_b
):
    assert client.get(URL, {"q": "hi"}).status_code == 302  # to the sign-in page
    client.force_login(teller)
    response = client.get(URL, {"q": "hi", "branch": branch_b.pk}, HTTP_HX_REQUEST="true")
    assert "Not one of your branches." in response.content.decode()
