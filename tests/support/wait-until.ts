/**
 * Polls a condition on real state (Redis, HTTP) until it holds; rejects after `timeoutMs`. For state that sends no
 * event to wait on; a client's frames are awaited with LiveTestClient.waitFor instead.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
