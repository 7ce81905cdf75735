"""Deploy notifications: webhook targets (Slack-compatible, plain JSON, Sentry releases) and sending to them."""
