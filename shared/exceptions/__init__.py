"""The operators' exceptions desk: booking, connector, reminder, tool and telephony exceptions as items."""
