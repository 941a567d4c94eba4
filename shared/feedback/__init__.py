"""Demo feedback: a thumbs up or down with an optional comment, stored per tenant and joined to its session."""
