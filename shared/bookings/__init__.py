"""Bookings: the booking lifecycle state machine and its reminder / no-show bookkeeping."""
