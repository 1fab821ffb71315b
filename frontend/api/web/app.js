// The page: the form, the calls to the API, errors as the server words them.
import {base64Bytes, Pcm16, StreamPlayer} from "./player.js";
import {ReadAlong} from "./readalong.js";

const $ = (id) => document.getElementById(id);
const API = new URL("../", location.href); // the API's root: the page is its /web/
const KEY_STORAGE = "kokoro-api-key";
const MODEL = "kokoro";
const CHARS_PER_SECOND = 14; // English at speed 1: sizes the progress bar until the whole length is known
const EXTENSIONS = {opus: "ogg", raw: "pcm"};

let config, player, readAlong;
let playing = null; // the AbortController of the speech being played

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function call(path, body, signal) {
  const headers = body ? {"Content-Type": "application/json"} : {};
  const key = $("api-key").value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(new URL(path, API), {method: body ? "POST" : "GET", headers, signal,
                                                body: body && JSON.stringify(body)});
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`Could not reach the server: ${error.message}`);
  }
  if (!response.ok) throw new ApiError(await errorMessage(response), response.status);
  return response;
}

// The server's own words: OpenAI's {"error": {"message"}}, else whatever the body says.
async function errorMessage(response) {
  const text = await response.text();
  try {
    const message = JSON.parse(text).error?.message;
    if (message) return message;
  } catch { /* not JSON: a proxy's page, say */ }
  return `${response.status} ${response.statusText}${text ? `: ${text.slice(0, 300)}` : ""}`;
}

// The data of each server-sent event, as it arrives.
async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (data) yield data;
    }
  }
}

// OpenAI's server-sent events over 16-bit pcm, with each chunk's words when asked (`alignment: "word"`);
// a failure after the first event comes in-band.
async function* speechPieces(body, signal) {
  const response = await call("v1/audio/speech", {...body, response_format: "pcm", stream_format: "sse"}, signal);
  const pcm = new Pcm16();
  for await (const event of events(response)) {
    const message = JSON.parse(event);
    if (message.type === "error") throw new ApiError(message.error.message);
    if (message.type === "speech.audio.delta") yield {samples: pcm.decode(base64Bytes(message.audio))};
    if (message.type === "speech.audio.words") yield {words: message.words.map(asWord)};
  }
}

function asWord(word) {
  return {text: word.word, start: word.start_time, end: word.end_time, from: word.char_start, to: word.char_end};
}

function showError(error) {
  $("error").textContent = error.message;
  $("error").hidden = false;
  if (error.status === 401) $("api-key").focus();
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function setStatus(state, message) {
  $("player").dataset.state = state;
  $("status").textContent = message;
  $("stop").disabled = !["streaming", "playing"].includes(state);
}

// The request's fields from the form: input, voice, speed and language.
function speechRequest() {
  const body = {model: MODEL, input: $("text").value, voice: voiceSpec(), speed: Number($("speed").value)};
  if ($("language").value) body.language = $("language").value;
  return body;
}

async function play() {
  stop();
  clearError();
  const controller = new AbortController();
  playing = controller;
  try {
    await player.open();
    await stream(controller);
  } catch (error) {
    if (playing !== controller) return;
    player.stop();
    showError(error);
    setStatus("error", "Stopped by an error.");
  }
  if (playing !== controller) return;
  showProgress(player.synthesized);
  playing = null;
}

// Plays the form's speech as it arrives, until all of it has been heard.
async function stream(controller) {
  const readingAlong = $("read-along").checked;
  const body = {...speechRequest(), ...(readingAlong && {alignment: "word"})};
  player.reset();
  readAlong.show(body.input);
  $("words").hidden = !readingAlong;
  const view = $("player").dataset;
  Object.assign(view, {chunks: 0, playedAtChunks: "", firstChunkMs: ""});
  const began = performance.now();
  const estimate = body.input.length / CHARS_PER_SECOND / body.speed;
  setStatus("streaming", "Synthesizing and playing…");
  const draw = () => {
    showProgress(estimate);
    if (playing === controller) requestAnimationFrame(draw);
  };
  requestAnimationFrame(draw);
  for await (const piece of speechPieces(body, controller.signal)) {
    if (piece.words) {
      readAlong.add(piece.words);
      continue;
    }
    view.playedAtChunks += `${view.chunks > 0 ? "," : ""}${player.position().toFixed(3)}`;
    view.chunks = Number(view.chunks) + 1;
    view.firstChunkMs ||= Math.round(performance.now() - began);
    player.add(piece.samples);
  }
  setStatus("playing", `Synthesized ${player.synthesized.toFixed(1)} s; playing…`);
  await player.finished();
  if (playing === controller) setStatus("done", `Played ${player.synthesized.toFixed(1)} s of speech.`);
}

function showProgress(estimate) {
  const total = Math.max(player.synthesized, estimate, 0.001);
  const played = player.position();
  $("synthesized-bar").style.width = `${(100 * player.synthesized) / total}%`;
  $("played-bar").style.width = `${(100 * played) / total}%`;
  Object.assign($("player").dataset, {synthesized: player.synthesized.toFixed(3), played: played.toFixed(3)});
  readAlong.at(played);
}

function stop() {
  if (!playing) return;
  playing.abort();
  playing = null;
  player.stop();
  showProgress(player.synthesized);
  setStatus("stopped", "Stopped.");
}

async function download() {
  clearError();
  const format = $("format").value;
  const button = $("download");
  button.disabled = true;
  try {
    const response = await call("v1/audio/speech", {...speechRequest(), response_format: format});
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `speech.${EXTENSIONS[format] || format}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

async function explain() {
  clearError();
  const voice = catalog.find((v) => v.id === $("voice-0").value);
  const language = $("language").value || voice?.language;
  try {
    const response = await call("dev/phonemize", {text: $("text").value, ...(language && {language})});
    const result = await response.json();
    $("normalized").textContent = result.normalized_text;
    $("phonemes").textContent = result.phonemes;
    $("tokens").textContent = `${result.tokens.length} tokens`;
    $("explanation").hidden = false;
  } catch (error) {
    showError(error);
  }
}

// Voices, grouped by language and gender, in every select of the blend.
let catalog = [];

async function loadVoices() {
  try {
    const response = await call("v1/audio/voices");
    catalog = (await response.json()).voices;
    clearError();
  } catch (error) {
    catalog = [];
    showError(error);
  }
  for (const select of document.querySelectorAll("#blend select")) fillVoices(select);
  $("voices").dataset.count = catalog.length;
  showVoiceSpec();
}

function fillVoices(select, fresh = config.default_voice) {
  const chosen = select.value || fresh;
  const groups = new Map();
  for (const voice of catalog) {
    const label = `${voice.language} · ${voice.gender}`;
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(voice);
  }
  select.replaceChildren(...[...groups].sort(([a], [b]) => a.localeCompare(b)).map(([label, members]) => {
    const group = document.createElement("optgroup");
    group.label = label;
    group.append(...members.map((v) => new Option(v.id, v.id)));
    return group;
  }));
  if (catalog.some((v) => v.id === chosen)) select.value = chosen;
}

function addVoice() {
  const index = $("blend").children.length;
  const row = document.createElement("div");
  row.className = "blend-row";
  row.innerHTML = `
    <label for="voice-${index}">Voice ${index + 1}</label>
    <select id="voice-${index}"></select>
    <label for="weight-${index}" class="weight">Weight</label>
    <input id="weight-${index}" class="weight" type="number" min="0.1" step="0.1" value="1" inputmode="decimal">`;
  if (index > 0) {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove voice ${index + 1}`);
    remove.addEventListener("click", () => {
      row.remove();
      renumber();
      $("add-voice").focus();
    });
    row.append(remove);
  }
  const used = [...$("blend").querySelectorAll("select")].map((s) => s.value);
  $("blend").append(row);
  fillVoices(row.querySelector("select"), index > 0 ? catalog.find((v) => !used.includes(v.id))?.id : undefined);
  row.addEventListener("input", showVoiceSpec);
  showVoiceSpec();
  return row;
}

function renumber() {
  [...$("blend").children].forEach((row, index) => {
    const [voiceLabel, select, weightLabel, weight, remove] = row.children;
    voiceLabel.textContent = `Voice ${index + 1}`;
    voiceLabel.htmlFor = select.id = `voice-${index}`;
    weightLabel.htmlFor = weight.id = `weight-${index}`;
    remove?.setAttribute("aria-label", `Remove voice ${index + 1}`);
  });
  showVoiceSpec();
}

// One voice by its id; several as the API's blend, af_bella(2)+af_sky(1).
function voiceSpec() {
  const rows = [...$("blend").children].map((row) => [row.querySelector("select").value,
                                                       row.querySelector("input").value]);
  if (rows.length === 1) return rows[0][0];
  return rows.map(([voice, weight]) => `${voice}(${Number(weight) || 0})`).join("+");
}

function showVoiceSpec() {
  $("blend").classList.toggle("blending", $("blend").children.length > 1);
  $("voice-spec").textContent = voiceSpec();
}

function showCount() {
  const count = $("text").value.length;
  const over = count > config.max_input_chars;
  $("count").textContent = `${count} / ${config.max_input_chars} characters${over ? " (too long)" : ""}`;
  $("count").classList.toggle("over", over);
  $("text").setAttribute("aria-invalid", String(over));
}

function setUp() {
  const speed = $("speed");
  Object.assign(speed, {min: config.min_speed, max: config.max_speed});
  speed.addEventListener("input", () => { $("speed-value").textContent = speed.value; });
  $("format").append(...config.formats.map((f) => new Option(f, f, f === "mp3", f === "mp3")));
  $("language").append(...config.languages.map((l) => new Option(l, l)));
  $("key-section").hidden = !config.needs_key;
  const key = $("api-key");
  key.value = localStorage.getItem(KEY_STORAGE) || "";
  key.addEventListener("change", () => {
    localStorage.setItem(KEY_STORAGE, key.value.trim());
    loadVoices();
  });
  $("text").addEventListener("input", showCount);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) play();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
  });
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", stop);
  $("download").addEventListener("click", download);
  $("explain").addEventListener("click", explain);
  $("add-voice").addEventListener("click", () => addVoice().querySelector("select").focus());
  showCount();
  addVoice();
}

async function start() {
  try {
    config = await (await call("web/config.json")).json();
  } catch (error) {
    showError(error);
    return;
  }
  player = new StreamPlayer(config.sample_rate);
  readAlong = new ReadAlong($("words"));
  setUp();
  await loadVoices();
  document.body.dataset.ready = "true";
}

start();
