"""Assets: equipment kept at workplaces, its status and condition history, and its printable QR label."""
