// The Python of a lesson page: Pyodide (CPython on WebAssembly) in a module Web Worker, so a
// program that never ends cannot freeze the page; the page ends it by terminating this worker.
// static/js/python.js starts it when the learner shows they mean to run something (a pointer on or the
// focus in Run, Edit or the exercise) and talks to it with messages:
//
//   page → worker  {type: "load", indexURL, checksURL}            start Python, run nothing yet
//                  {type: "run", code, indexURL, checksURL}       run a program as __main__
//                  {type: "check", code, checks, indexURL, checksURL}  the exercise's checks (stream_checks.py)
//                  {type: "answer", id, value}                   what the learner typed for input()
//   worker → page  {type: "phase", phase: "loading" | "starting"} fetching and compiling, then initialising
//                  {type: "ready"}                               Python is started
//                  {type: "failed", text}                        Python could not start (after "load")
//                  {type: "stdout" | "stderr", text}             output, as it is written
//                  {type: "input", id, prompt}                   input() waits for an answer
//                  {type: "done", ok, result?}                   finished (result: the checks' outcome)
//
// A second page starts fast. The files come from the browser's HTTP cache (Pyodide's folder is named
// after its version and served as immutable), and pyodide.asm.wasm is compiled by streaming from its
// response (WebAssembly.instantiateStreaming), which lets V8 reuse the code it cached for that URL. What
// the cache cannot skip is Python's own start (seconds: the standard library's modules are compiled from
// source), so the first start in a browser takes a memory snapshot of the started interpreter (Pyodide's
// makeMemorySnapshot) and keeps it in Cache Storage; later pages restore it instead of starting Python
// again. The snapshot is keyed by Pyodide's folder, so a new version makes a new one, and one that does not
// restore is dropped and Python starts as the first time.
"use strict";

let starting = null; // the promise of the started Python, shared by every message
const answers = new Map();
let nextQuestion = 1;

// What the learner's program gets instead of a terminal: input() asks the page and waits for the answer
// through Pyodide's run_sync, which suspends Python on a JavaScript promise (JSPI); time.sleep() blocks as on
// a desktop. asyncio.run works as on a desktop (enableRunUntilComplete).
const PRELUDE = `
import builtins, linecache, os, random, sys, time, traceback
from pyodide.ffi import run_sync

FILENAME = "main.py"

def _input(prompt=""):
    prompt = str(prompt)
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = run_sync(_ask(prompt))
    if line is None:
        raise EOFError("EOF when reading a line")
    sys.stdout.write(line + "\\n")
    return line

def _sleep(seconds):
    # A desktop time.sleep blocks the whole thread, its asyncio event loop included. Waiting on a
    # JavaScript promise would let the loop's timers run meanwhile, so this waits by watching the clock
    # (in this worker's thread only; Stop still ends it).
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass

def _exit(status):
    raise SystemExit(status)

builtins.input = _input
time.sleep = _sleep
os._exit = _exit  # Emscripten's exit would end the interpreter without a word to the page
# A snapshot holds the random generator's state too: every page restored from it would draw the same numbers.
random.seed()

def _traceback(error, filename):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    lines = ["Traceback (most recent call last):\\n", *traceback.format_list(frames)] if frames else []
    sys.stderr.write("".join(lines + traceback.format_exception_only(type(error), error)))

# What a program may change for the next one, put back after each run as a new process would start:
# the builtins, and the modules it imported (pure-Python ones; those loaded before stay loaded).
_BUILTINS = dict(builtins.__dict__)
_MODULES = set(sys.modules)

def _fresh():
    builtins.__dict__.clear()
    builtins.__dict__.update(_BUILTINS)
    for name in [name for name in sys.modules if name not in _MODULES]:
        if str(getattr(sys.modules[name], "__file__", "") or "").endswith(".py"):
            del sys.modules[name]

def _run(code):
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    try:
        exec(compile(code, FILENAME, "exec"), {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as error:
        # As a desktop Python: exit() and exit(0) are a normal end, a message is printed, a status is not.
        if error.code is None or error.code == 0:
            return True
        if not isinstance(error.code, int):
            sys.stderr.write(f"{error.code}\\n")
        return False
    except BaseException as error:
        _traceback(error, FILENAME)
        return False
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _fresh()
    return True
`;

function ask(prompt) {
  const id = nextQuestion++;
  return new Promise((resolve) => {
    answers.set(id, resolve);
    postMessage({ type: "input", id, prompt });
  });
}

function writer(type) {
  const decoder = new TextDecoder();
  return {
    write(bytes) {
      postMessage({ type, text: decoder.decode(bytes, { stream: true }) });
      return bytes.length;
    },
  };
}

// Once Python is loaded, the learner's code gets no network: it could otherwise read the site's pages
// with the learner's cookies (other sites are kept out by the Content-Security-Policy anyway).
function closeNetwork() {
  const refuse = () => Promise.reject(new Error("Programs on this page cannot use the network."));
  self.fetch = refuse;
  for (const name of ["XMLHttpRequest", "WebSocket", "EventSource", "importScripts"]) self[name] = undefined;
}

// Cache Storage (a secure context's) keeps the snapshot; without it, every page starts Python afresh.
const SNAPSHOTS = "stream-python-snapshots";

// The stored snapshot's response (its body is read while Pyodide fetches and compiles), or null.
async function storedSnapshot(key) {
  if (typeof caches === "undefined") return null;
  try {
    return (await (await caches.open(SNAPSHOTS)).match(key)) || null;
  } catch {
    return null;
  }
}

// Stores the snapshot (null: drops it) and drops those of other Pyodide versions, one write after another.
let storing = Promise.resolve();

function storeSnapshot(key, bytes) {
  if (typeof caches === "undefined") return;
  storing = storing.then(async () => {
    try {
      const cache = await caches.open(SNAPSHOTS);
      for (const request of await cache.keys()) if (request.url !== key) await cache.delete(request);
      if (bytes) await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
      else await cache.delete(key);
    } catch {
      // Storage full or refused: the next page starts Python afresh.
    }
  });
}

// "Loading" lasts while the files are fetched and pyodide.asm.wasm compiled; "starting" once both are done
// (WebAssembly.instantiateStreaming has resolved and the standard library's zip has arrived): what is left
// is Python's own start.
const instantiateStreaming = WebAssembly.instantiateStreaming;

function reportPhases(stdlibURL) {
  postMessage({ type: "phase", phase: "loading" });
  let waiting = 2;
  const done = () => (waiting -= 1) === 0 && postMessage({ type: "phase", phase: "starting" });
  let stdlibArrived = false;
  const observer = new PerformanceObserver(() => arrived());
  function arrived() {
    if (stdlibArrived || !performance.getEntriesByName(stdlibURL).length) return;
    stdlibArrived = true;
    observer.disconnect();
    done();
  }
  observer.observe({ type: "resource", buffered: true });
  WebAssembly.instantiateStreaming = async (...args) => {
    WebAssembly.instantiateStreaming = instantiateStreaming;
    const result = await instantiateStreaming.apply(WebAssembly, args);
    arrived(); // its entry may be there before the observer, which waits for an idle moment, is told
    done();
    return result;
  };
}

async function start(indexURL, checksURL) {
  reportPhases(`${indexURL}python_stdlib.zip`);
  const snapshotKey = `${indexURL}stream-memory-snapshot`;
  const options = { indexURL, enableRunUntilComplete: true };
  const [{ loadPyodide }, snapshot] = await Promise.all([
    import(`${indexURL}pyodide.mjs`),
    storedSnapshot(snapshotKey),
  ]);
  let py = null;
  if (snapshot) {
    try {
      py = await loadPyodide({ ...options, _loadSnapshot: snapshot.arrayBuffer() });
      self.startedFrom = "snapshot"; // for the browser tests
    } catch {
      storeSnapshot(snapshotKey, null); // made by another build, or damaged: made again below
      reportPhases(`${indexURL}python_stdlib.zip`);
    }
  }
  if (!py) {
    py = await loadPyodide({ ...options, _makeSnapshot: true });
    // Taken before anything of this page's is in it; stored while the learner's program runs.
    storeSnapshot(snapshotKey, py.makeMemorySnapshot());
    self.startedFrom = "fresh";
  }
  const response = await fetch(checksURL);
  if (!response.ok) throw new Error(`${checksURL}: HTTP ${response.status}`);
  py.FS.writeFile("/home/pyodide/stream_checks.py", await response.text());
  closeNetwork();
  py.setStdout(writer("stdout"));
  py.setStderr(writer("stderr"));
  py.globals.set("_ask", ask);
  await py.runPythonAsync(PRELUDE);
  postMessage({ type: "ready" });
  return py;
}

function load(indexURL, checksURL) {
  starting ??= start(indexURL, checksURL);
  return starting;
}

async function run({ code, indexURL, checksURL }) {
  const py = await load(indexURL, checksURL);
  py.globals.set("_code", code);
  return { ok: await py.runPythonAsync("_run(_code)") };
}

async function check({ code, checks, indexURL, checksURL }) {
  const py = await load(indexURL, checksURL);
  py.globals.set("_code", code);
  py.globals.set("_checks", checks);
  const outcome = await py.runPythonAsync(`
from stream_checks import run_checks
_outcome = run_checks(_code, _checks)
if _outcome["error"]:
    sys.stderr.write(_outcome["error"] + "\\n")
_fresh()
_outcome
`);
  const result = outcome.toJs({ dict_converter: Object.fromEntries });
  outcome.destroy();
  return { ok: !result.error && result.checks.every((item) => item.passed), result };
}

self.addEventListener("message", async (event) => {
  const message = event.data;
  if (message.type === "answer") {
    const resolve = answers.get(message.id);
    answers.delete(message.id);
    if (resolve) resolve(message.value);
    return;
  }
  if (message.type === "load") {
    // Started ahead of a run: a failure is said now, and the page starts another worker for the run.
    load(message.indexURL, message.checksURL).catch((error) => postMessage({ type: "failed", text: describe(error) }));
    return;
  }
  try {
    const outcome = message.type === "check" ? await check(message) : await run(message);
    postMessage({ type: "done", ...outcome });
  } catch (error) {
    // Pyodide itself failed (it could not load, or broke): the page says so.
    postMessage({ type: "stderr", text: `${describe(error)}\n` });
    postMessage({ type: "done", ok: false, failed: true });
  }
});

function describe(error) {
  return error && error.message ? error.message : String(error);
}
