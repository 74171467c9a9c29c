// The display board: polls its feed with the version it has and redraws on change.
//
// An idle poll is answered 304 from the server's cache (no database query). A new call plays a
// short chime (Web Audio API) when the device has the chime on; browsers allow audio only after
// a click on the page (or with Chrome's --autoplay-policy=no-user-gesture-required on a kiosk
// PC), so until then a hint asks for one click.
(() => {
  "use strict";

  const root = document.getElementById("board");
  if (!root) return;

  const feedUrl = root.dataset.feedUrl;
  const pollMs = Number(root.dataset.pollMs) || 1500;
  const english = (root.dataset.lang || "").startsWith("en");
  const timeZone = root.dataset.timeZone || undefined;
  const chimeOn = root.dataset.chime === "on";
  let version = root.dataset.version || "";
  let failures = 0;
  let seenCalls = null; // keys of the calls shown so far (null until the first feed)

  const $ = (selector) => root.querySelector(selector);
  const serving = $("[data-serving]");
  const servingEmpty = $("[data-serving-empty]");
  const recent = $("[data-recent]");
  const waiting = $("[data-waiting]");
  const clock = $("[data-clock]");
  const offline = $("[data-offline]");
  const inactive = $("[data-inactive]");
  const hint = $("[data-sound-hint]");

  const template = (id) => document.getElementById(id).content.firstElementChild;
  const servingTpl = template("tpl-serving");
  const recentTpl = template("tpl-recent");
  const waitingTpl = template("tpl-waiting");

  const timeFormat = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
    timeZone,
  });
  const hhmm = (date) => timeFormat.format(date);

  // --- Sound ------------------------------------------------------------------------------
  let audio = null;

  function showHint() {
    if (hint) hint.hidden = !(chimeOn && (!audio || audio.state !== "running"));
  }

  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!chimeOn || !Context) return;
    if (!audio) {
      audio = new Context();
      audio.addEventListener("statechange", showHint);
    }
    if (audio.state !== "running") audio.resume().then(showHint, showHint);
    showHint();
  }

  function chime() {
    if (!audio || audio.state !== "running") return;
    const start = audio.currentTime + 0.05;
    // Two soft tones, high then low ("ding-dong").
    [
      [659.25, 0],
      [523.25, 0.42],
    ].forEach(([frequency, offset]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const at = start + offset;
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 1.1);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(at);
      osc.stop(at + 1.2);
    });
  }

  // --- Drawing ----------------------------------------------------------------------------
  const callKey = (call) => `${call.number}|${call.counter}|${call.called_at}`;

  function drawServing(calls, fresh) {
    const items = calls.map((call, index) => {
      const li = servingTpl.cloneNode(true);
      li.dataset.number = call.number;
      li.querySelector(".num").textContent = call.number;
      li.querySelector(".ctr").textContent = call.counter;
      if (index === 0) li.classList.add("latest");
      if (fresh.has(callKey(call))) li.classList.add("flash");
      return li;
    });
    serving.replaceChildren(...items);
    servingEmpty.hidden = calls.length > 0;
  }

  function drawRecent(calls) {
    recent.replaceChildren(
      ...calls.map((call) => {
        const li = recentTpl.cloneNode(true);
        const counter = li.querySelector(".ctr");
        li.querySelector(".num").textContent = call.number;
        counter.textContent = counter.textContent.replace("#", call.counter);
        const time = li.querySelector("time");
        time.dateTime = call.called_at;
        time.textContent = hhmm(new Date(call.called_at));
        return li;
      }),
    );
  }

  function drawWaiting(rows) {
    waiting.replaceChildren(
      ...rows.map((row) => {
        const li = waitingTpl.cloneNode(true);
        li.dataset.service = row.service;
        li.querySelector(".pfx").textContent = row.prefix;
        const name = li.querySelector(".svc");
        name.prepend(english ? row.name_en : row.name_zh);
        name.querySelector("small").textContent = english ? row.name_zh : row.name_en;
        li.querySelector(".count").textContent = row.waiting;
        return li;
      }),
    );
  }

  function apply(feed) {
    const keys = feed.last_calls.map(callKey);
    const fresh = new Set(seenCalls ? keys.filter((key) => !seenCalls.has(key)) : []);
    drawServing(feed.now_serving, fresh);
    drawRecent(feed.last_calls);
    drawWaiting(feed.waiting);
    seenCalls = new Set(keys);
    version = String(feed.version);
    root.dataset.version = version;
    if (fresh.size && chimeOn) chime();
  }

  // --- Polling ----------------------------------------------------------------------------
  function setState({ offline: isOffline = false, inactive: isInactive = false }) {
    offline.hidden = !isOffline;
    inactive.hidden = !isInactive;
  }

  async function poll() {
    let delay = pollMs;
    try {
      const response = await fetch(`${feedUrl}?v=${encodeURIComponent(version)}`, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.status === 200) {
        apply(await response.json());
        failures = 0;
        setState({});
      } else if (response.status === 304) {
        failures = 0;
        setState({});
      } else if (response.status === 404) {
        // Deactivated: keep asking, slowly, in case it is switched back on.
        setState({ inactive: true });
        delay = 30000;
      } else {
        throw new Error(`feed answered ${response.status}`);
      }
    } catch (_error) {
      failures += 1;
      setState({ offline: failures >= 3 });
      delay = Math.min(pollMs * 2 ** failures, 15000);
    }
    window.setTimeout(poll, delay);
  }

  function tick() {
    if (clock) clock.textContent = hhmm(new Date());
  }

  // The calls already on the page when it loaded do not chime.
  seenCalls = new Set(Array.from(recent.querySelectorAll("li[data-key]"), (li) => li.dataset.key));

  // A label the other language's catalogue does not translate yet would show twice: hide it.
  root.querySelectorAll("h2 .alt, .serving-head small").forEach((alt) => {
    const primary = alt.parentElement.firstChild;
    if (primary && primary.textContent.trim() === alt.textContent.trim()) alt.hidden = true;
  });

  if (chimeOn) {
    unlockAudio();
    ["pointerdown", "keydown", "touchstart"].forEach((type) =>
      document.addEventListener(type, unlockAudio, { passive: true }),
    );
  }
  tick();
  window.setInterval(tick, 10000);
  window.setTimeout(poll, pollMs);
})();
