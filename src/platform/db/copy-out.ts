// COPY ... TO STDOUT on a pg client, read as bytes. The rows of a query
// stream from the socket into the consumer's Buffers without ever becoming
// JavaScript strings or row objects: over a million-entry export, those (a
// row's text is ~700 bytes) were what the young generation kept promoting
// into the old one, and what made the exporting process's heap swing by
// ~100 MB. pg has no COPY reader of its own; this is the small part of one
// that text-format COPY needs.
import type pg from 'pg';
import { Readable } from 'node:stream';

const BACKSLASH = 0x5c;
/** Text-format COPY writes these characters as a backslash and a letter; any other escaped byte stands for itself. */
const UNESCAPED: Record<number, number> = { 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x76: 0x0b };
/** Bytes handed to the consumer at a time: a few hundred rows. */
const CHUNK = 64 * 1024;

interface Connection { stream: { pause(): void; resume(): void }; query(text: string): void }

/**
 * The rows of a one-column text-format COPY as bytes, one line each, with
 * COPY's escaping undone. Backpressure pauses the connection's socket. The
 * stream ends when the statement has completed; an error of the statement or
 * the connection destroys it.
 */
export function copyOut(client: pg.PoolClient, statement: string): Readable {
  let connection: Connection | undefined;
  let out = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  let escaped = false;
  const stream = new Readable({ read: () => connection?.stream.resume() });

  const flush = () => {
    if (at === 0) return;
    const full = out.subarray(0, at);
    out = Buffer.allocUnsafe(CHUNK);
    at = 0;
    if (!stream.push(full)) connection?.stream.pause();
  };

  /** Appends a row (a view into pg's parser buffer, valid only now), unescaping as it copies. */
  const append = (row: Buffer) => {
    if (at + row.length > out.length) {
      flush();
      if (row.length > out.length) out = Buffer.allocUnsafe(row.length);
    }
    let from = 0;
    if (escaped) {
      out[at++] = UNESCAPED[row[0]!] ?? row[0]!;
      from = 1;
      escaped = false;
    }
    for (let i = row.indexOf(BACKSLASH, from); i !== -1; i = row.indexOf(BACKSLASH, from)) {
      at += row.copy(out, at, from, i);
      if (i + 1 === row.length) {
        escaped = true; // the escaped byte opens the next message
        from = row.length;
        break;
      }
      out[at++] = UNESCAPED[row[i + 1]!] ?? row[i + 1]!;
      from = i + 2;
    }
    at += row.copy(out, at, from);
  };

  // pg runs an object with submit() as a query and hands it the protocol messages.
  const submittable = {
    submit(c: Connection) {
      connection = c;
      c.query(statement);
    },
    handleCopyData(msg: { chunk: Buffer }) {
      append(msg.chunk);
    },
    handleCommandComplete() {
      flush();
    },
    // A failed statement is followed by ReadyForQuery, a lost connection is not: end the stream at once.
    handleError(err: Error) {
      connection?.stream.resume();
      stream.destroy(err);
    },
    handleReadyForQuery() {
      // The last rows may have paused the socket, and an ended stream asks for no more reads: the
      // connection must read again, or the next statement on it (the commit) never sees its answer.
      connection?.stream.resume();
      if (!stream.destroyed) stream.push(null);
    },
  };
  client.query(submittable as unknown as pg.QueryConfig);
  return stream;
}
