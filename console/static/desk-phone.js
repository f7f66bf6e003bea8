// The desk's browser phone: JsSIP registers as the agent's extension over Asterisk's
// loopback WebSocket; calls from the queues ring here, media is DTLS-SRTP (WebRTC).
// window.hotlinePhone lets the tests read the phone's state and RTP counters.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("phone-config").textContent);
  const status = document.getElementById("phone-status");
  const answer = document.getElementById("phone-answer");
  const hangup = document.getElementById("phone-hangup");
  const audio = document.getElementById("phone-audio");
  let current = null;
  const words = JSON.parse(document.getElementById("desk-words").textContent);
  const t = (word) => words[word] || word;

  function show(state, detail) {
    status.dataset.state = state;
    status.textContent = detail ? t(state) + ": " + t(detail) : t(state);
    answer.disabled = state !== "ringing";
    hangup.disabled = state !== "ringing" && state !== "on a call";
  }

  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(config.ws)],
    uri: config.uri,
    password: config.password,
    register: true,
    session_timers: false,
  });
  ua.on("registered", () => { if (!current) show("registered"); });
  ua.on("unregistered", () => show("unregistered"));
  ua.on("registrationFailed", (e) => show("registration failed", e.cause));
  ua.on("disconnected", () => show("disconnected"));
  ua.on("newRTCSession", (e) => {
    if (e.originator !== "remote") return;
    if (current) { e.session.terminate({ status_code: 486 }); return; }  // busy: one call
    current = e.session;
    current.on("peerconnection", (p) => {
      p.peerconnection.addEventListener("track", (t) => { audio.srcObject = t.streams[0]; });
    });
    current.on("accepted", () => show("on a call"));
    const done = (why) => { current = null; show("registered", why); };
    current.on("ended", () => done("call ended"));
    current.on("failed", (f) => done(f.cause));
    show("ringing");
  });

  answer.addEventListener("click", () => {
    if (current) current.answer({ mediaConstraints: { audio: true, video: false },
                                  pcConfig: { iceServers: [] } });
  });
  hangup.addEventListener("click", () => { if (current) current.terminate(); });

  window.hotlinePhone = {
    state: () => status.dataset.state,
    async rtp() {
      const pc = current && current.connection;
      const counts = { sent: 0, received: 0, ice: pc ? pc.iceConnectionState : "none",
                       connection: pc ? pc.connectionState : "none" };
      if (!pc) return counts;
      (await pc.getStats()).forEach((report) => {
        if (report.type === "outbound-rtp" && report.kind === "audio") counts.sent += report.packetsSent;
        if (report.type === "inbound-rtp" && report.kind === "audio") counts.received += report.packetsReceived;
      });
      return counts;
    },
  };
  ua.start();
})();
