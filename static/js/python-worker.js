// The Python of a lesson page: Pyodide (CPython on WebAssembly) in a module Web Worker, so a
// program that never ends cannot freeze the page; the page ends it by terminating this worker.
// static/js/python.js starts it on the first Run or Check and talks to it with messages:
//
//   page → worker  {type: "run", code, indexURL}                 run a program as __main__
//                  {type: "check", code, checks, indexURL, checksURL}  the exercise's checks (stream_checks.py)
//                  {type: "answer", id, value}                   what the learner typed for input()
//   worker → page  {type: "ready"}                               Python is loaded (the first time)
//                  {type: "stdout" | "stderr", text}             output, as it is written
//                  {type: "input", id, prompt}                   input() waits for an answer
//                  {type: "done", ok, result?}                   finished (result: the checks' outcome)
"use strict";

let python = null;
const answers = new Map();
let nextQuestion = 1;

// What the learner's program gets instead of a terminal: input() asks the page and waits for the
// answer, and time.sleep() really waits, without spinning, through Pyodide's run_sync, which suspends
// Python on a JavaScript promise (JSPI). asyncio.run works as on a desktop (enableRunUntilComplete).
const PRELUDE = `
import builtins, linecache, os, sys, time, traceback
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

async function load(indexURL, checksURL) {
  if (python) return python;
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  python = await loadPyodide({ indexURL, enableRunUntilComplete: true });
  const response = await fetch(checksURL);
  if (!response.ok) throw new Error(`${checksURL}: HTTP ${response.status}`);
  python.FS.writeFile("/home/pyodide/stream_checks.py", await response.text());
  closeNetwork();
  python.setStdout(writer("stdout"));
  python.setStderr(writer("stderr"));
  python.globals.set("_ask", ask);
  python.globals.set("_wait", (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  await python.runPythonAsync(PRELUDE);
  postMessage({ type: "ready" });
  return python;
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
  try {
    const outcome = message.type === "check" ? await check(message) : await run(message);
    postMessage({ type: "done", ...outcome });
  } catch (error) {
    // Pyodide itself failed (it could not load, or broke): the page says so.
    postMessage({ type: "stderr", text: `${error && error.message ? error.message : error}\n` });
    postMessage({ type: "done", ok: false, failed: true });
  }
});
