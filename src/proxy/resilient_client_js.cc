// The browser half of resumable Shiny WebSockets (docs/websocket-resume.md).
// html_injector puts it into every app page; Shiny then opens its socket
// through window.Shiny.createSocket, which this script defines.
#include "proxy/html_injector.h"

namespace blockyard::proxy {

namespace {

// Must never contain a closing script tag: it is inlined into the page.
constexpr std::string_view kScript = R"JS(
(function () {
  'use strict';
  if (window.__blockyardResilientSocket) return;
  window.__blockyardResilientSocket = true;

  var MARK = '\u001e';
  var ENDED_CODE = 4410;
  var ACK_BATCH = 16;
  var ACK_DELAY_MS = 200;
  var ENDED_TEXT = 'Your session has ended \u2014 reload to start a new one.';

  // The same URL Shiny's own socket would use.
  function socketUrl(query) {
    var path = window.location.pathname;  // already percent-encoded by the browser
    if (!/\/$/.test(path)) path += '/';
    var proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + window.location.host + path + 'websocket/?' + query;
  }

  function whenBody(fn) {
    if (document.body) fn();
    else document.addEventListener('DOMContentLoaded', fn);
  }

  function showReconnecting(on) {
    whenBody(function () {
      var el = document.getElementById('blockyard-reconnecting');
      if (!on) {
        if (el) el.remove();
        return;
      }
      if (el) return;
      el = document.createElement('div');
      el.id = 'blockyard-reconnecting';
      el.setAttribute('role', 'status');
      el.textContent = 'Connection lost \u2014 reconnecting\u2026';
      el.style.cssText = 'position:fixed;top:0;left:50%;transform:translateX(-50%);' +
        'z-index:2147483646;background:#fff4e5;color:#663c00;border:1px solid #f0c36d;' +
        'border-top:none;border-radius:0 0 6px 6px;padding:6px 14px;' +
        'font:14px system-ui,sans-serif';
      document.body.appendChild(el);
    });
  }

  function showEnded() {
    showReconnecting(false);
    whenBody(function () {
      if (document.getElementById('blockyard-session-ended')) return;
      var overlay = document.createElement('div');
      overlay.id = 'blockyard-session-ended';
      overlay.setAttribute('role', 'alertdialog');
      overlay.style.cssText = 'position:fixed;top:0;left:0;right:0;bottom:0;' +
        'z-index:2147483647;display:flex;align-items:center;justify-content:center;' +
        'background:rgba(31,41,51,0.6);font-family:system-ui,sans-serif';
      var box = document.createElement('div');
      box.style.cssText = 'background:#fff;color:#1f2933;padding:24px 32px;border-radius:8px;' +
        'max-width:30rem;text-align:center;box-shadow:0 8px 24px rgba(0,0,0,0.25)';
      var text = document.createElement('p');
      text.className = 'blockyard-session-ended-text';
      text.style.cssText = 'margin:0 0 16px;font-size:16px';
      text.textContent = ENDED_TEXT;
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Reload';
      button.style.cssText = 'font-size:15px;padding:6px 18px;cursor:pointer';
      button.onclick = function () { window.location.reload(); };
      box.appendChild(text);
      box.appendChild(button);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
    });
  }

  // Looks like a WebSocket to Shiny; survives the loss of the real one by
  // resuming the proxy-held session under its token.
  function ResilientSocket() {
    this.readyState = 0;
    this.binaryType = 'arraybuffer';
    this.allowReconnect = false;  // Shiny must not start a second session itself
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._token = null;
    this._ttlMs = 0;
    this._received = 0;      // proxy->browser messages handed to Shiny
    this._ackedOut = 0;      // the last count acknowledged to the proxy
    this._sent = 0;          // sequence number of the last message Shiny sent
    this._unacked = [];      // [{seq, data}] not yet acknowledged by the proxy
    this._ws = null;
    this._live = false;      // the current socket has said hello
    this._closing = false;   // Shiny asked to close
    this._done = false;
    this._ackTimer = null;
    this._deadline = 0;
    this._attempts = 0;
    this._open('blockyard_resume=new');
  }

  ResilientSocket.prototype._open = function (query) {
    var self = this;
    var ws = new WebSocket(socketUrl(query));
    ws.binaryType = 'arraybuffer';
    this._ws = ws;
    this._live = false;
    ws.onmessage = function (ev) { if (self._ws === ws) self._onFrame(ev.data); };
    ws.onerror = function () {};  // onclose follows and decides
    ws.onclose = function (ev) {
      if (self._ws !== ws) return;
      self._ws = null;
      self._live = false;
      self._onDrop(ev);
    };
  };

  ResilientSocket.prototype._onFrame = function (data) {
    if (typeof data === 'string' && data.charAt(0) === MARK) {
      if (data.charAt(1) !== MARK) {
        var control;
        try { control = JSON.parse(data.slice(1)); } catch (e) { return; }
        return this._onControl(control);
      }
      data = data.slice(1);
    }
    if (!this._live) return;
    this._received++;
    this._scheduleAck();
    if (this.onmessage) this.onmessage({ data: data });
  };

  ResilientSocket.prototype._onControl = function (msg) {
    if (msg.t === 'hello') {
      this._token = msg.token;
      this._ttlMs = msg.ttl || 0;
      this._dropAcked(msg.ack || 0);
      this._live = true;
      this._attempts = 0;
      this._deadline = 0;
      showReconnecting(false);
      var first = this.readyState === 0;
      if (!first && !msg.resumed) return this._end('not resumed');
      // What the proxy did not get before the drop goes again, in order
      // (before onopen, whose own sends must go only once).
      for (var i = 0; i < this._unacked.length && this._ws; i++) {
        this._ws.send(encode(this._unacked[i].data));
      }
      this.readyState = 1;
      if (first && this.onopen) this.onopen({ type: 'open' });
    } else if (msg.t === 'ack') {
      this._dropAcked(msg.n || 0);
    } else if (msg.t === 'ended') {
      this._end(msg.reason || 'ended');
    }
  };

  function encode(data) {
    return typeof data === 'string' && data.charAt(0) === MARK ? MARK + data : data;
  }

  ResilientSocket.prototype._dropAcked = function (n) {
    while (this._unacked.length && this._unacked[0].seq <= n) this._unacked.shift();
  };

  ResilientSocket.prototype._scheduleAck = function () {
    var self = this;
    if (this._received - this._ackedOut >= ACK_BATCH) return this._sendAck();
    if (this._ackTimer) return;
    this._ackTimer = setTimeout(function () {
      self._ackTimer = null;
      self._sendAck();
    }, ACK_DELAY_MS);
  };

  ResilientSocket.prototype._sendAck = function () {
    if (!this._live || this._received <= this._ackedOut) return;
    this._ackedOut = this._received;
    this._ws.send(MARK + JSON.stringify({ t: 'ack', n: this._received }));
  };

  ResilientSocket.prototype._onDrop = function (ev) {
    if (this._done) return;
    if (this._closing || !this._token) return this._finish(ev.code, ev.reason, ev.wasClean);
    if (ev.code === ENDED_CODE) return this._end(ev.reason || 'ended');
    if (!this._deadline) this._deadline = Date.now() + this._ttlMs + 2000;
    if (Date.now() > this._deadline) return this._end('timeout');
    showReconnecting(true);
    var self = this;
    var delay = Math.min(250 * Math.pow(2, this._attempts++), 2000);
    setTimeout(function () {
      if (self._done) return;
      self._ackedOut = self._received;
      self._open('blockyard_resume=' + encodeURIComponent(self._token) +
        '&last=' + self._received);
    }, delay);
  };

  ResilientSocket.prototype._end = function (reason) {
    if (this._done) return;
    showEnded();
    var ws = this._ws;
    this._ws = null;
    if (ws) try { ws.close(); } catch (e) { /* already closing */ }
    this._finish(ENDED_CODE, String(reason), false);
  };

  ResilientSocket.prototype._finish = function (code, reason, wasClean) {
    if (this._done) return;
    this._done = true;
    this.readyState = 3;
    if (this._ackTimer) clearTimeout(this._ackTimer);
    showReconnecting(false);
    if (this.onclose) this.onclose({ type: 'close', code: code, reason: reason, wasClean: wasClean });
  };

  ResilientSocket.prototype.send = function (data) {
    if (this.readyState !== 1) return;
    this._unacked.push({ seq: ++this._sent, data: data });
    if (this._live) this._ws.send(encode(data));
  };

  ResilientSocket.prototype.close = function (code, reason) {
    if (this._done) return;
    this._closing = true;
    this.readyState = 2;
    if (this._ws) this._ws.close(code || 1000, reason);
    else this._finish(code || 1000, reason || '', true);
  };

  // Leaving the page ends the session at once. A browser may drop the
  // connection without a close frame when it unloads, which would otherwise
  // look like a network failure and hold the R session for ws_cache_ttl.
  ResilientSocket.prototype._leave = function () {
    if (this._done || !this._ws) return;
    this._closing = true;
    try {
      if (this._live) this._ws.send(MARK + JSON.stringify({ t: 'close' }));
      this._ws.close(1001, 'page left');
    } catch (e) { /* already closing */ }
  };

  var sockets = [];
  window.addEventListener('pagehide', function () {
    for (var i = 0; i < sockets.length; i++) sockets[i]._leave();
  });

  window.Shiny = window.Shiny || {};
  if (!window.Shiny.createSocket) {
    window.Shiny.createSocket = function () {
      var socket = new ResilientSocket();
      sockets.push(socket);
      return socket;
    };
  }
})();
)JS";

}  // namespace

std::string_view resilient_client_js() {
  return kScript;
}

}  // namespace blockyard::proxy
