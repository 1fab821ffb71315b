// Plays speech while it streams: each piece of samples is scheduled on the Web Audio clock right after the
// previous one, so sound starts with the first piece. `position()` is the audio played so far, in seconds of
// the audio as sent (gaps while waiting for the network are not counted): the clock read-along follows.
const LEAD_S = 0.05; // scheduled this far ahead, so a piece is never asked to start in the past

export class StreamPlayer {
  constructor(sampleRate) {
    this.sampleRate = sampleRate;
    this.context = null;
    this.reset();
  }

  reset() {
    this.segments = []; // {at: context time it starts, duration}
    this.sources = [];
    this.end = 0;
    this.synthesized = 0;
    this.stoppedAt = null;
  }

  // Called from the click that starts playback: browsers start audio only after a user gesture.
  async open() {
    this.context ??= new AudioContext();
    await this.context.resume();
  }

  add(samples) {
    const context = this.context;
    const buffer = context.createBuffer(1, samples.length, this.sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    const at = Math.max(this.end, context.currentTime + LEAD_S);
    source.start(at);
    this.sources.push(source);
    this.segments.push({at, duration: buffer.duration});
    this.end = at + buffer.duration;
    this.synthesized += buffer.duration;
  }

  position() {
    if (this.stoppedAt !== null) return this.stoppedAt;
    if (!this.context) return 0;
    const now = this.context.currentTime - (this.context.outputLatency || 0);
    return this.segments.reduce((sum, s) => sum + Math.min(Math.max(now - s.at, 0), s.duration), 0);
  }

  // Resolves when everything added so far has been heard (or at once after stop()).
  finished() {
    const remaining = () => this.end - this.context.currentTime + (this.context.outputLatency || 0);
    return new Promise((resolve) => {
      const check = () => (this.sources.length && remaining() > 0 ? setTimeout(check, 50) : resolve());
      check();
    });
  }

  stop() {
    this.stoppedAt ??= this.position();
    for (const source of this.sources) {
      try { source.stop(); } catch { /* not started yet */ }
    }
    this.sources = [];
  }
}

// 16-bit little-endian samples (the API's `pcm`) to floats; an odd byte waits for the next piece.
export class Pcm16 {
  constructor() { this.carry = new Uint8Array(0); }

  decode(bytes) {
    const all = new Uint8Array(this.carry.length + bytes.length);
    all.set(this.carry);
    all.set(bytes, this.carry.length);
    const whole = all.length - (all.length % 2);
    this.carry = all.slice(whole);
    const view = new DataView(all.buffer, 0, whole);
    const samples = new Float32Array(whole / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    return samples;
  }
}

export function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
