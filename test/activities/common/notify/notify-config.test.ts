import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { notifyConfigFromEnv, NotifyConfigError } from '../../../../activities/common/notify/notifier.js';

const secret = 'webhook-secret-0123456789';

describe('notification settings from the environment', () => {
  it('reads SMTP, webhooks and the Web UI, with defaults', () => {
    const parsed = notifyConfigFromEnv(
      {
        IMAGECAST_SMTP_HOST: 'smtp.example.com',
        IMAGECAST_SMTP_USER: 'imagecast',
        IMAGECAST_SMTP_PASSWORD: ' pass with spaces ',
        IMAGECAST_WEBHOOK_URLS: 'https://a.example/hook, https://b.example/hook ,',
        IMAGECAST_WEBHOOK_SECRET: secret,
        IMAGECAST_UI_URL: 'http://localhost:8233',
        IMAGECAST_SMTP_SECURE: '',
      },
      'build-7',
    );
    assert.deepEqual(parsed, {
      smtp: {
        host: 'smtp.example.com',
        port: 25,
        secure: false,
        user: 'imagecast',
        password: ' pass with spaces ',
        from: 'imagecast@build-7',
      },
      webhooks: [
        { url: 'https://a.example/hook', secret },
        { url: 'https://b.example/hook', secret },
      ],
      webUiUrl: 'http://localhost:8233',
    });
    assert.equal(
      notifyConfigFromEnv({ IMAGECAST_SMTP_HOST: 'h', IMAGECAST_SMTP_PORT: '465' }).smtp?.secure,
      true,
    );
    assert.deepEqual(notifyConfigFromEnv({}), {});
  });

  it('names each bad variable and never echoes a value', () => {
    assert.throws(
      () =>
        notifyConfigFromEnv({
          IMAGECAST_SMTP_HOST: 'smtp.example.com',
          IMAGECAST_SMTP_PORT: '70000',
          IMAGECAST_SMTP_SECURE: 'maybe',
          IMAGECAST_SMTP_USER: 'imagecast',
          IMAGECAST_WEBHOOK_URLS: 'https://ok.example,ftp://secret-token@files.example',
          IMAGECAST_UI_URL: 'not a url',
        }),
      (e: unknown) => {
        assert.ok(e instanceof NotifyConfigError);
        for (const variable of [
          'IMAGECAST_SMTP_PORT',
          'IMAGECAST_SMTP_SECURE',
          'IMAGECAST_WEBHOOK_URLS[1]',
          'IMAGECAST_UI_URL',
          'IMAGECAST_SMTP_PASSWORD',
          'IMAGECAST_WEBHOOK_SECRET',
        ]) {
          assert.ok(e.message.includes(variable), `${variable} in: ${e.message}`);
        }
        assert.doesNotMatch(e.message, /secret-token|maybe|70000/);
        return true;
      },
    );
    assert.throws(
      () =>
        notifyConfigFromEnv({
          IMAGECAST_WEBHOOK_URLS: 'https://a.example',
          IMAGECAST_WEBHOOK_SECRET: 'short',
        }),
      /IMAGECAST_WEBHOOK_SECRET: expected at least 16 characters/,
    );
  });
});
