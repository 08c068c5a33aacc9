"""Attendance: geofenced clock-in and clock-out at assigned workplaces, offline ones included, and day views."""
