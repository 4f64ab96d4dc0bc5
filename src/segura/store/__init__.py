"""The only place that opens the warehouse."""

from segura.store.warehouse import Warehouse, open_warehouse

__all__ = ["Warehouse", "open_warehouse"]
