// Reception pages: keeps their live parts fresh. Every [data-rx-refresh] element reloads its HTML
// from that URL every data-rx-interval seconds. Progressive enhancement: without this script the
// pages work the same, the greeter or teller reloads by hand.
(() => {
  const MIN_SECONDS = 5;
  for (const box of document.querySelectorAll("[data-rx-refresh]")) {
    const url = box.dataset.rxRefresh;
    const seconds = Math.max(Number(box.dataset.rxInterval) || 15, MIN_SECONDS);
    let loading = false;
    const refresh = async () => {
      // Not while hidden, and not under the user's hands (focus inside the box).
      if (loading || document.hidden || box.contains(document.activeElement)) return;
      loading = true;
      try {
        const response = await fetch(url, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { "X-Requested-With": "fetch" },
        });
        // A redirect means the session ended: keep what is shown; the next click signs in again.
        if (response.ok && !response.redirected) {
          box.innerHTML = await response.text();
          box.dataset.rxRefreshedAt = new Date().toISOString();
        }
      } catch {
        // Offline for a moment: try again on the next tick.
      } finally {
        loading = false;
      }
    };
    setInterval(refresh, seconds * 1000);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refresh();
    });
  }
})();
