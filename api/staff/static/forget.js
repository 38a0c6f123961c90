// On the login page: the outreach page's offline copy belongs to the last session, so it
// goes (unsent entries stay: they are in localStorage, per worker, and still to be sent).
if (window.caches) caches.delete("tsunagu-outreach");
