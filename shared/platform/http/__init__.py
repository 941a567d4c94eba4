"""The one HTTP adapter and its helpers: requests, replies, auth modes, cookies, CSRF."""
