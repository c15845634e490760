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
let checksLoaded = false;
const answers = new Map();
let nextQuestion = 1;

// What the learner's program gets instead of a terminal: input() asks the page and waits for the
// answer, and time.sleep() really waits, without spinning, through Pyodide's run_sync, which suspends
// Python on a JavaScript promise (JSPI). asyncio.run works as on a desktop (enableRunUntilComplete).
const PRELUDE = `
import builtins, linecache, sys, time, traceback
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
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    run_sync(_wait(seconds * 1000))

builtins.input = _input
time.sleep = _sleep

def _traceback(error, filename):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    lines = ["Traceback (most recent call last):\\n", *traceback.format_list(frames)] if frames else []
    sys.stderr.write("".join(lines + traceback.format_exception_only(type(error), error)))

def _run(code):
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    try:
        exec(compile(code, FILENAME, "exec"), {"__name__": "__main__", "__builtins__": builtins})
    except BaseException as error:
        _traceback(error, FILENAME)
        return False
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
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

async function load(indexURL) {
  if (python) return python;
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  python = await loadPyodide({ indexURL, enableRunUntilComplete: true });
  python.setStdout(writer("stdout"));
  python.setStderr(writer("stderr"));
  python.globals.set("_ask", ask);
  python.globals.set("_wait", (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
  await python.runPythonAsync(PRELUDE);
  postMessage({ type: "ready" });
  return python;
}

async function run({ code, indexURL }) {
  const py = await load(indexURL);
  py.globals.set("_code", code);
  return { ok: await py.runPythonAsync("_run(_code)") };
}

async function check({ code, checks, indexURL, checksURL }) {
  const py = await load(indexURL);
  if (!checksLoaded) {
    const response = await fetch(checksURL);
    if (!response.ok) throw new Error(`${checksURL}: HTTP ${response.status}`);
    py.FS.writeFile("/home/pyodide/stream_checks.py", await response.text());
    checksLoaded = true;
  }
  py.globals.set("_code", code);
  py.globals.set("_checks", checks);
  const outcome = await py.runPythonAsync(`
from stream_checks import run_checks
_outcome = run_checks(_code, _checks)
if _outcome["error"]:
    sys.stderr.write(_outcome["error"] + "\\n")
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
