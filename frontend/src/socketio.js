// The Socket.IO browser client from the npm package socket.io-client (version pinned in
// package-lock.json), bundled by build.mjs into static/vendor/socket.io.min.js.
// Server templates load that file with a plain <script> tag and call window.io(...):
// no module loader and no CDN, so it works on an offline exam LAN.
import { io } from "socket.io-client";

// `io` also carries io.Manager, io.Socket and io.connect, like the official browser build.
window.io = io;
