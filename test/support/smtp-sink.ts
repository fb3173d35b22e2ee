// A tiny real SMTP server for tests: nodemailer talks to it over TCP exactly as to a mail
// relay. It follows RFC 5321's command and reply shapes (220 greeting, EHLO multi-line 250,
// MAIL/RCPT/DATA with 354 and a "." line, dot-unstuffing, 221 on QUIT, 5xx permanent and
// 4xx transient replies), plus RFC 4954 AUTH PLAIN/LOGIN. It does not relay, queue or do TLS.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SinkMessage {
  from: string;
  to: string[];
  /** The DATA section as sent (headers, blank line, body), dot-unstuffed, CRLF line ends. */
  data: string;
  /** The user that authenticated for this message, if any. */
  user?: string;
}

export interface SinkOptions {
  /** When set, AUTH must use these or gets 535; when not, any credentials are accepted. */
  credentials?: { user: string; password: string };
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: SinkMessage[];
  /** Recipients answered with 550 at RCPT TO (compared case-insensitively). */
  rejectRecipients: Set<string>;
  /** While true, new connections are greeted with 421 (service not available) and closed. */
  unavailable: boolean;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket, sink, options);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sink: SmtpSink = {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    messages: [],
    rejectRecipients: new Set(),
    unavailable: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return sink;
}

/** One connection's dialogue: a line-at-a-time state machine. */
function serve(socket: Socket, sink: SmtpSink, options: SinkOptions): void {
  const reply = (...lines: string[]) =>
    socket.write(
      lines.map((l, i) => `${l.slice(0, 3)}${i < lines.length - 1 ? '-' : ' '}${l.slice(4)}\r\n`).join(''),
    );
  if (sink.unavailable) {
    reply('421 4.3.2 sink unavailable, try again later');
    socket.end();
    return;
  }
  let mailFrom: string | undefined;
  let rcpts: string[] = [];
  let user: string | undefined;
  let dataLines: string[] | undefined;
  /** What the next line answers, during AUTH's 334 challenges. */
  let pending: ((line: string) => void) | undefined;
  let buffer = '';

  const authenticate = (u: string, password: string) => {
    const want = options.credentials;
    if (want && (want.user !== u || want.password !== password))
      return reply('535 5.7.8 authentication credentials invalid');
    user = u;
    reply('235 2.7.0 authentication successful');
  };
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const authPlain = (b64: string) => {
    const [, u = '', password = ''] = decode(b64).split('\0');
    authenticate(u, password);
  };

  const command = (line: string) => {
    const [verb = '', ...args] = line.split(' ');
    const arg = args.join(' ');
    const address = () => /<([^>]*)>/.exec(arg)?.[1] ?? '';
    switch (verb.toUpperCase()) {
      case 'EHLO':
        return reply('250 sink greets you', '250 8BITMIME', '250 AUTH PLAIN LOGIN');
      case 'HELO':
        return reply('250 sink');
      case 'AUTH': {
        const [mechanism = '', initial] = args;
        if (mechanism.toUpperCase() === 'PLAIN') {
          if (initial) return authPlain(initial);
          pending = authPlain;
          return reply('334 ');
        }
        if (mechanism.toUpperCase() === 'LOGIN') {
          const askPassword = (u: string) => {
            pending = (p) => authenticate(u, decode(p));
            reply('334 UGFzc3dvcmQ6');
          };
          if (initial) return askPassword(decode(initial));
          pending = (u) => askPassword(decode(u));
          return reply('334 VXNlcm5hbWU6');
        }
        return reply('504 5.5.4 unrecognized authentication type');
      }
      case 'MAIL':
        mailFrom = address();
        rcpts = [];
        return reply('250 2.1.0 sender ok');
      case 'RCPT': {
        if (mailFrom === undefined) return reply('503 5.5.1 need MAIL before RCPT');
        const to = address();
        if (sink.rejectRecipients.has(to.toLowerCase()) || sink.rejectRecipients.has(to)) {
          return reply(`550 5.1.1 <${to}>: recipient address rejected: user unknown`);
        }
        rcpts.push(to);
        return reply('250 2.1.5 recipient ok');
      }
      case 'DATA':
        if (mailFrom === undefined || rcpts.length === 0) return reply('554 5.5.1 no valid recipients');
        dataLines = [];
        return reply('354 end data with <CR><LF>.<CR><LF>');
      case 'RSET':
        mailFrom = undefined;
        rcpts = [];
        return reply('250 2.0.0 reset');
      case 'NOOP':
        return reply('250 2.0.0 ok');
      case 'QUIT':
        reply('221 2.0.0 bye');
        return socket.end();
      default:
        return reply('502 5.5.2 command not recognized');
    }
  };

  const onLine = (line: string) => {
    if (dataLines) {
      if (line !== '.') return void dataLines.push(line.startsWith('..') ? line.slice(1) : line);
      sink.messages.push({ from: mailFrom ?? '', to: rcpts, data: dataLines.join('\r\n') + '\r\n', user });
      dataLines = undefined;
      mailFrom = undefined;
      rcpts = [];
      return void reply('250 2.0.0 queued');
    }
    if (pending) {
      const answer = pending;
      pending = undefined;
      return void (line === '*' ? reply('501 5.0.0 authentication cancelled') : answer(line));
    }
    command(line);
  };

  reply('220 sink ESMTP ready');
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      onLine(line);
    }
  });
}
