import { execFileSync } from 'node:child_process';

/** vitest globalSetup: compiles dist/ once, for the tests that run the service as a child process (`node dist/main.js`). */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
