"""The canonical model: tables, fields and code lists. No I/O beyond reading packaged code lists."""
