// The door's scanner page (docs/checkin.md): a field that keeps focus for
// keyboard-wedge scanners, camera scanning (BarcodeDetector where it
// exists, otherwise frames decoded by the server), search by name, undo, live counters, and a queue for scans made offline.
(function () {
  'use strict';
  var root = document.getElementById('door');
  if (!root) return;
  var base = root.dataset.base, day = root.dataset.day, csrf = root.dataset.csrf;
  // A session's door (issue 18): every scan names the session.
  var session = root.dataset.session || '';
  var $ = function (id) { return document.getElementById(id); };
  var msg = function (k) { return root.getAttribute('data-msg-' + k) || k; };
  var field = $('f-code'), queueKey = 'checkin-queue:' + base, refusedKey = 'checkin-refused:' + base;
  var lastOK = null, chain = Promise.resolve();

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }
  function load(k) { try { return JSON.parse(localStorage.getItem(k)) || []; } catch (e) { return []; } }
  function save(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* full: keep in memory only */ } }

  function post(path, body) {
    return fetch(base + path, {
      method: 'POST', credentials: 'same-origin', redirect: 'manual',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept': 'application/json' },
      body: JSON.stringify(body)
    });
  }
  // answer reads a JSON answer; a login redirect or an HTML page means the
  // session ended.
  function answer(res) {
    var ct = res.headers.get('Content-Type') || '';
    if (res.type === 'opaqueredirect' || ct.indexOf('application/json') < 0) {
      return Promise.reject(new Error('signed_out'));
    }
    return res.json().then(function (j) { return { status: res.status, body: j }; });
  }

  function show(kind, verdict, name, detail) {
    var box = $('result');
    box.hidden = false;
    box.className = 'door-result ' + kind;
    box.dataset.result = verdict;
    $('result-verdict').textContent = msg(verdict);
    $('result-name').textContent = name || '';
    $('result-detail').textContent = detail || '';
    answers([]);
  }
  // answers lists the answers to the event's door questions (say, "needs
  // a wheelchair space: yes") under the verdict.
  function answers(list) {
    var ul = $('result-answers');
    ul.textContent = '';
    (list || []).forEach(function (x) {
      var li = document.createElement('li');
      var text = typeof x.value === 'boolean' ? msg(x.value ? 'yes' : 'no') : x.text;
      li.textContent = x.label + ': ' + text;
      ul.appendChild(li);
    });
    ul.hidden = !ul.firstChild;
  }
  function showResult(r) {
    var kind = r.result === 'ok' ? 'ok' : (r.result === 'already_checked_in' ? 'warn' : 'bad');
    var a = r.attendee, name = '', detail = '';
    if (a) name = a.name + ' · ' + msg('party').replace('{seat}', a.seat).replace('{size}', a.party_size);
    if (r.result === 'already_checked_in' && r.time) detail = msg('by').replace('{time}', r.time).replace('{by}', r.by || '?');
    show(kind, r.result, name, detail);
    if (a) answers(a.answers);
    // Undo takes back the event's check-in, not a session's.
    if (r.result === 'ok' && !r.replayed && !session) { lastOK = r.code; $('undo').hidden = false; }
  }

  // Scans run one after the other, so that a fast scanner's codes are
  // neither lost nor shown out of order.
  function scan(code) {
    code = (code || '').trim();
    if (!code) return;
    chain = chain.then(function () { return scanNow(code); });
  }
  function scanNow(code) {
    var item = { code: code, day: day, scan_id: uuid(), scanned_at: new Date().toISOString() };
    if (session) item.session = session;
    return post('/scan', item).then(answer).then(function (a) {
      if (a.status === 200) { showResult(a.body); counts(); }
      else show('bad', 'unknown', '', (a.body.error && a.body.error.message) || String(a.status));
    }, function (err) {
      if (err && err.message === 'signed_out') { show('bad', 'signed_out', '', ''); return; }
      var q = load(queueKey); q.push(item); save(queueKey, q);
      show('warn', 'offline', code, '');
      renderQueue();
    }).then(refocus);
  }

  function sync() {
    var q = load(queueKey);
    if (!q.length || !navigator.onLine) return;
    var item = q[0];
    post('/scan', item).then(answer).then(function (a) {
      var rest = load(queueKey).filter(function (x) { return x.scan_id !== item.scan_id; });
      save(queueKey, rest);
      var ok = a.status === 200 && (a.body.result === 'ok' || (a.body.result === 'already_checked_in' && a.body.replayed));
      if (!ok) {
        var refused = load(refusedKey);
        refused.push({ code: item.code, at: item.scanned_at, result: a.status === 200 ? a.body.result : String(a.status) });
        save(refusedKey, refused);
      }
      renderQueue(); counts();
      if (rest.length) sync();
    }, function () { /* still offline: try later */ });
  }
  function renderQueue() {
    var q = load(queueKey), refused = load(refusedKey);
    $('queue').hidden = q.length === 0;
    $('queue-pending').textContent = q.length;
    $('refused-box').hidden = refused.length === 0;
    $('refused-count').textContent = refused.length;
    var ul = $('refused'); ul.textContent = '';
    refused.forEach(function (r) {
      var li = document.createElement('li');
      li.textContent = r.code + ' · ' + msg(r.result) + ' · ' + new Date(r.at).toLocaleTimeString();
      ul.appendChild(li);
    });
  }

  function counts() {
    fetch(base + '/counts?day=' + encodeURIComponent(day), { credentials: 'same-origin', redirect: 'manual' })
      .then(answer).then(function (a) {
        if (a.status !== 200) return;
        $('count-in').textContent = a.body.checked_in;
        $('count-confirmed').textContent = a.body.confirmed;
      }, function () {});
  }

  function refocus() {
    var a = document.activeElement;
    if (a && a !== document.body && a !== field) return;
    field.focus();
  }

  $('scan-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var v = field.value; field.value = '';
    scan(v);
  });
  // A keyboard-wedge scanner types into whatever has focus: give it back
  // to the field unless the user moved on to another control.
  field.addEventListener('blur', function () { setTimeout(refocus, 300); });

  $('undo').addEventListener('click', function () {
    if (!lastOK) return;
    var code = lastOK;
    post('/undo', { code: code, day: day }).then(answer).then(function (a) {
      if (a.status === 200) { show('warn', 'undone', a.body.attendee ? a.body.attendee.name : code, ''); lastOK = null; $('undo').hidden = true; counts(); }
      else show('bad', 'unknown', '', a.body.error && a.body.error.message);
    }, function () { show('bad', 'offline', '', ''); }).then(function () { field.focus(); });
  });

  var searchTimer = null;
  $('search-form').addEventListener('submit', function (e) { e.preventDefault(); });
  $('f-search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    var q = this.value.trim();
    searchTimer = setTimeout(function () {
      var ul = $('search-results');
      if (q.length < 2) { ul.textContent = ''; return; }
      fetch(base + '/search?day=' + encodeURIComponent(day) + '&q=' + encodeURIComponent(q), { credentials: 'same-origin', redirect: 'manual' })
        .then(answer).then(function (a) {
          ul.textContent = '';
          var ts = (a.body && a.body.tickets) || [];
          if (!ts.length) { var li0 = document.createElement('li'); li0.textContent = msg('none'); ul.appendChild(li0); }
          ts.forEach(function (t) {
            var li = document.createElement('li'), b = document.createElement('button');
            li.textContent = t.name + ' · ' + msg('party').replace('{seat}', t.seat).replace('{size}', t.party_size) + ' ';
            b.type = 'button'; b.textContent = t.checked_in_at ? msg('already_checked_in') : msg('ok');
            b.disabled = !!t.checked_in_at;
            b.addEventListener('click', function () { scan(t.code); });
            li.appendChild(b); ul.appendChild(li);
          });
        }, function () {});
    }, 300);
  });

  // Camera: BarcodeDetector where the browser has it and reads QR codes
  // (Android Chrome); elsewhere (iPhone Safari, Firefox) the page sends
  // 3–4 downscaled JPEG frames a second to the server, which finds the QR
  // code (POST …/decode). A code seen in the last 4 s is not scanned again.
  var stream = null, seen = {}, toggle = $('camera-toggle');
  function seenCode(text) {
    var now = Date.now();
    if (seen[text] && now - seen[text] <= 4000) return;
    seen[text] = now; scan(text);
  }
  function qrDetector() {
    if (!('BarcodeDetector' in window)) return Promise.resolve(null);
    var formats = window.BarcodeDetector.getSupportedFormats ? window.BarcodeDetector.getSupportedFormats() : Promise.resolve(['qr_code']);
    return formats.then(function (f) {
      return f.indexOf('qr_code') >= 0 ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
    }, function () { return null; });
  }
  function detectLoop(video, detector) {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      codes.forEach(function (c) { seenCode(c.rawValue); });
    }, function () {}).then(function () { setTimeout(function () { detectLoop(video, detector); }, 250); });
  }
  // frameLoop sends one frame at a time (the next after the answer), at
  // most one every 280 ms, at most 640 pixels wide.
  var canvas = document.createElement('canvas');
  function frameLoop(video) {
    if (!stream) return;
    var started = Date.now();
    var next = function () { setTimeout(function () { frameLoop(video); }, Math.max(0, 280 - (Date.now() - started))); };
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) { next(); return; }
    var scale = Math.min(1, 640 / w);
    canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob || !stream) { next(); return; }
      fetch(base + '/decode', {
        method: 'POST', credentials: 'same-origin', redirect: 'manual',
        headers: { 'Content-Type': 'image/jpeg', 'X-CSRF-Token': csrf, 'Accept': 'application/json' },
        body: blob
      }).then(answer).then(function (a) {
        // 422: no code in this frame, the next one may have it.
        if (a.status === 200 && a.body.text) seenCode(a.body.text);
        next();
      }, function (err) {
        if (err && err.message === 'signed_out') { show('bad', 'signed_out', '', ''); stopCamera(); return; }
        next();
      });
    }, 'image/jpeg', 0.7);
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null; $('camera').hidden = true; toggle.textContent = msg('camera');
  }
  toggle.addEventListener('click', function () {
    var note = $('camera-note'), video = $('camera');
    if (stream) { stopCamera(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.hidden = false; note.textContent = msg('camera_unsupported');
      return;
    }
    qrDetector().then(function (detector) {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(function (s) {
        stream = s; video.srcObject = s; video.hidden = false; toggle.textContent = msg('camera_stop');
        return video.play().then(function () {
          if (detector) detectLoop(video, detector); else frameLoop(video);
        });
      });
    }).catch(function (err) { note.hidden = false; note.textContent = msg('camera_unsupported') + ' (' + err.name + ')'; });
  });
  // The button appears once it works (and never without JavaScript).
  toggle.hidden = false;
  // The scan form is handled from here on (tests wait for this mark).
  $('scan-form').dataset.ready = '1';

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/checkin/sw.js', { scope: '/checkin' }).catch(function () {});
  }
  window.addEventListener('online', sync);
  setInterval(counts, 5000);
  setInterval(sync, 10000);
  renderQueue();
  sync();
  field.focus();
}());
