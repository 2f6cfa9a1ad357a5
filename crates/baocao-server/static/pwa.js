// On every page: installs the service worker (static/sw.js), so that the
// offline entry page is kept on the device before it is needed, and opens
// the device's store of reports (IndexedDB) for the offline page.
//
// On a sign-out, forgets which account this device was entering for: the
// next person to use it offline sees nothing of the previous one's reports,
// and changes kept for an account are sent only once it signs in again.
"use strict";

/** The device's store: `meta` (the account), `reports` (taken along),
 * `changes` (entered, not yet sent, in the order entered). */
window.baocaoStore = function openStore() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("baocao-offline", 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore("meta");
      db.createObjectStore("reports");
      db.createObjectStore("changes", { keyPath: "id", autoIncrement: true });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
};

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.getAttribute("action") !== "/logout") return;
  if (!window.indexedDB || form.dataset.forgotten) return;
  event.preventDefault();
  const go = () => {
    form.dataset.forgotten = "1";
    form.submit();
  };
  window
    .baocaoStore()
    .then((db) => {
      const tx = db.transaction("meta", "readwrite");
      tx.objectStore("meta").delete("account");
      tx.oncomplete = go;
      tx.onerror = go;
    })
    .catch(go);
});
