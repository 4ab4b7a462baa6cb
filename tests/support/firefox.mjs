// Headless Firefox (Debian's firefox-esr) driven over WebDriver by geckodriver (from
// crates.io, on PATH), with no client library: a page to open, a function to run in it.
import { spawn } from "node:child_process";
import { freePort, sleep } from "./common.mjs";

/** Starts geckodriver and a headless Firefox session: `{ goto(url), evaluate(fn, arg), close() }`. */
export async function launchFirefox() {
  const port = await freePort();
  const driver = spawn(process.env.GECKODRIVER ?? "geckodriver", ["--host", "127.0.0.1", "--port", String(port)], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  const send = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const { value } = await res.json();
    if (value?.error) throw new Error(`WebDriver ${method} ${path}: ${value.error}: ${value.message}`);
    return value;
  };
  try {
    for (let waited = 0; !(await fetch(`${base}/status`).then((r) => r.ok, () => false)); waited += 100) {
      if (waited > 15_000) throw new Error("geckodriver did not start");
      await sleep(100);
    }
    const { sessionId } = await send("POST", "/session", {
      capabilities: { alwaysMatch: { browserName: "firefox", "moz:firefoxOptions": { args: ["-headless"] } } },
    });
    const session = (method, path, body) => send(method, `/session/${sessionId}${path}`, body);
    await session("POST", "/timeouts", { script: 30_000, pageLoad: 30_000 });
    return {
      goto: (url) => session("POST", "/url", { url }),
      /** `fn(arg)` in the page (an async function, sent as source); resolves its result. */
      evaluate: (fn, arg) =>
        session("POST", "/execute/async", {
          script: `const done = arguments[arguments.length - 1];
            Promise.resolve().then(() => (${fn})(arguments[0])).then(done, (err) => done({ thrown: String(err) }));`,
          args: [arg ?? null],
        }),
      async close() {
        await session("DELETE", "").catch(() => {});
        driver.kill();
      },
    };
  } catch (err) {
    driver.kill();
    throw err;
  }
}
