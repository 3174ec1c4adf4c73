// The playground's service worker: it keeps one build of the page for offline use, so a second visit works
// with the network cut (a hall with bad Wi-Fi). It answers only the playground's own files, from the cache of
// the build that installed it, so an old page never mixes with a new build's worker or wasm. A new build
// installs beside the old one and waits until the visitor chooses to reload (the page offers it).
//
// Every answer also carries the two headers that make the page cross-origin isolated, which the threaded
// worker needs (README, "Every core"), so a host that cannot set headers (GitHub Pages) still gets every
// core from the second load on. All the page's files are its own, so requiring that is safe.
//
// `tools/service-worker.mjs` writes the line below at build time: the build's version and its files.
const BUILD = { version: 'unbuilt', files: [], onDemand: [] };

const SCOPE = new URL('./', self.location).href;
const PREFIX = `anomaly-playground ${SCOPE} `;
const CACHE = PREFIX + BUILD.version;

// Every file the page needs to start. Each request asks the host whether its copy is current ("no-cache"),
// so all come from this build, and a host that answers "not modified" sends nothing the browser already has.
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll(BUILD.files.map((file) => new Request(new URL(file, SCOPE), { cache: 'no-cache' })))));
});

// Drops the caches of earlier builds of this playground (never another app's on the same host).
self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// The page's "reload to use it" button.
self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || !request.url.startsWith(SCOPE)) return;
  event.respondWith(answer(request));
});

async function answer(request) {
  const cache = await caches.open(CACHE);
  const url = new URL(request.url);
  const path = url.href.slice(SCOPE.length).split(/[?#]/)[0];
  // The page itself, under whatever query the address carries (settings travel in the fragment).
  const key = request.mode === 'navigate' && (path === '' || path === 'index.html') ? new URL('./', SCOPE).href : url.href;
  const kept = await cache.match(key, { ignoreSearch: request.mode === 'navigate' });
  if (kept) return isolated(kept);
  const response = await fetch(request);
  // Files fetched only when asked for (Fashion-MNIST, the threaded worker) are kept once fetched, so they
  // work offline too.
  if (response.ok && BUILD.onDemand.includes(path)) await cache.put(key, response.clone());
  return isolated(response);
}

function isolated(response) {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
