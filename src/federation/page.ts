/**
 * The page a federation server serves at `/`: a status view and the
 * browser client's module at `/client.js` (src/federation/browser.ts).
 *
 * @module
 */

/** The page's HTML. */
export const CLIENT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ferret-repro federation client</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; max-width: 50em; }
  th { text-align: left; padding-right: 1em; font-weight: 600; }
  pre { background: #f4f4f4; padding: 0.5em; max-height: 20em; overflow: auto; }
</style>
</head>
<body>
<h1>Federation client <span id="client">?</span></h1>
<table>
  <tr><th>State</th><td id="state">starting</td></tr>
  <tr><th>WebGPU</th><td id="adapter">–</td></tr>
  <tr><th>Round</th><td id="round">0</td></tr>
  <tr><th>Rounds trained</th><td id="trained">0</td></tr>
  <tr><th>Local loss</th><td id="loss">–</td></tr>
  <tr><th>Sent</th><td id="sent">0 B</td></tr>
  <tr><th>Received</th><td id="received">0 B</td></tr>
  <tr><th>Model hash</th><td id="hash">–</td></tr>
  <tr><th>Agreement</th><td id="agreement">–</td></tr>
</table>
<pre id="log"></pre>
<script type="module" src="/client.js"></script>
</body>
</html>
`;
