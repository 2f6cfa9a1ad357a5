// The service worker: keeps the offline entry page and what it needs, and
// answers a page the network cannot reach with that page, so that an
// officer who loses the connection (or reloads without one) can go on
// entering. Pages and API answers are never kept here: they hold what one
// account may see, and the offline page keeps its reports in IndexedDB,
// under the account they belong to.
"use strict";

// Replaced by the server with a hash of what is kept: a new release makes a
// new cache and the old one is deleted when it takes over.
const CACHE = "baocao-__VERSION__";
const KEPT = [
  "/offline",
  "/static/offline.js",
  "/static/pwa.js",
  "/static/app.css",
  "/manifest.webmanifest",
  "/static/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(KEPT.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("baocao-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (KEPT.includes(url.pathname)) {
    // The kept copy at once (a weak connection is slow to fail), refreshed
    // behind it when the network answers.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const kept = await cache.match(url.pathname);
        const fresh = fetch(request)
          .then((answer) => {
            if (answer.ok) cache.put(url.pathname, answer.clone());
            return answer;
          })
          .catch(() => kept);
        return kept || fresh;
      }),
    );
    return;
  }
  if (request.mode === "navigate") {
    // A page: from the network; without one, the offline page, which says
    // the page itself needs the connection.
    event.respondWith(
      fetch(request).catch(async () => {
        const shell = await caches.match("/offline");
        return shell || Response.error();
      }),
    );
  }
});
