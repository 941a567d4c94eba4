"""Tool policy: which registry tools run globally, per tenant opt-in, or never."""
