// A promise that gives up: rejects when the given one has not settled within
// ms. The timer does not keep the process alive.
export class TimeoutError extends Error {}

export function withTimeout<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    t.unref();
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
