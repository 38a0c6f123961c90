// Service worker of the outreach field log (scope /staff/outreach): the form opens at a
// doorstep with no signal. The page is fetched from the network when there is one, and its
// last copy (with this worker's own logs) is kept for when there is none; the login page
// deletes that copy (static/forget.js), so it does not outlive the session on a shared phone.
"use strict";
var CACHE = "tsunagu-outreach";
var PAGE = "/staff/outreach";
var ASSETS = ["/staff/static/staff.css", "/staff/static/outreach.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;  // the queue's POSTs go to the network as they are
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE && request.mode === "navigate") {
    event.respondWith(
      fetch(request).then(function (response) {
        // Only a real page of the signed-in worker (never the login page it redirects to),
        // and without a one-off notice (?ok=…) that would show again offline.
        if (response.ok && !response.redirected && !url.search) {
          var copy = response.clone();
          caches.open(CACHE).then(function (c) { c.put(PAGE, copy); });
        }
        return response;
      }).catch(function () {
        return caches.match(PAGE).then(function (cached) {
          return cached || Response.error();
        });
      })
    );
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(
      fetch(request).catch(function () { return caches.match(url.pathname); })
    );
  }
});
