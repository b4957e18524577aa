/*
 * Web workers for pages opened from file:// (the offline bundle).
 *
 * Chromium refuses `new Worker(...)` on file:// pages, and Material's search runs in a
 * worker. On file:// only, this replaces `Worker` with a small stand-in that runs the worker
 * script in a hidden same-origin iframe and passes messages both ways. Loaded by the theme as
 * a polyfill (extra.polyfills); its file name tells Material's offline plugin that a worker
 * shim is present, so the plugin adds no script from another host. Served over http(s), it
 * does nothing.
 */
(function () {
  "use strict";
  if (location.protocol !== "file:") {
    return;
  }

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this.queue = [];
      this.ready = false;
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      this.frame.setAttribute("aria-hidden", "true");
      document.body.appendChild(this.frame);
      const scope = this.frame.contentWindow;
      const worker = this;
      // What the worker script calls `postMessage` and `close` in its own global scope.
      scope.postMessage = function (data) {
        worker.deliver(new MessageEvent("message", { data: structuredClone(data) }));
      };
      scope.close = function () { worker.terminate(); };
      scope.importScripts = function () {
        throw new Error("importScripts is not available to workers of a file:// page");
      };
      const script = this.frame.contentDocument.createElement("script");
      script.src = new URL(url, location.href).href;
      script.onload = function () {
        worker.ready = true;
        worker.queue.splice(0).forEach(function (data) { worker.postMessage(data); });
      };
      script.onerror = function () {
        worker.deliver(new ErrorEvent("error", { message: "cannot load worker script " + url }));
      };
      this.frame.contentDocument.head.appendChild(script);
    }

    postMessage(data) {
      if (!this.frame) {
        return;
      }
      if (!this.ready) {
        this.queue.push(data);
        return;
      }
      const scope = this.frame.contentWindow;
      scope.dispatchEvent(new scope.MessageEvent("message", { data: scope.structuredClone(data) }));
    }

    terminate() {
      if (this.frame) {
        this.frame.remove();
        this.frame = null;
      }
    }

    deliver(event) {
      this.dispatchEvent(event);
      const handler = event.type === "message" ? this.onmessage : this.onerror;
      if (typeof handler === "function") {
        handler.call(this, event);
      }
    }
  }

  window.Worker = FileWorker;
})();
