"""Supply: purchase orders and receipts, quality holds, and transfers between locations."""

from __future__ import annotations

import math
import random

from dagster_project.core.simulate.clock import DAY, HOUR, MINUTE, PLANT_HOURS, WAREHOUSE_HOURS
from dagster_project.core.simulate.engine import SimCore

# Share of purchase orders the buyer cancels before they arrive.
CANCEL_SHARE = 0.06
# How long a planner takes to turn an ERP replenishment request into a purchase order.
PLANNER_DELAY = 2 * HOUR


class Supply(SimCore):
    """Buys what falls below its reorder level and moves finished goods to where they sell."""

    def _setup_supply(self) -> None:
        # purchase-order choices (cancellations) draw from their own generator, so they leave
        # the plant's other random choices where they were
        self.po_rng = random.Random(f"{self.cfg.seed}:po")
        self.settled: set[str] = set()  # POs received or cancelled
        self.quality_holds = True
        self.sku_index = {s.sku_id: s.index for s in self.skus}

    def _purchase(self, p: int, want: float) -> None:
        sku = self.skus[p // self.n_loc]
        lot = sku.packs[0][1] if sku.packs else 1
        line = self._place_po(p, math.ceil(want / lot) * lot)
        if self.po_rng.random() < CANCEL_SHARE:
            self._at(self.now + int(self.po_rng.uniform(1, 12) * HOUR), self._cancel_po, line)

    def _place_po(self, p: int, qty: float) -> tuple:
        """A one-line purchase order to the SKU's supplier, received after the supplier's lead
        time (its nominal lead time is the promise)."""
        sku = self.skus[p // self.n_loc]
        supplier = self.plant.supplier(sku)
        self.inbound[p] += qty
        po = self._next_id("PO", 6)
        cal = PLANT_HOURS if p % self.n_loc == self.plant_loc else WAREHOUSE_HOURS
        due = self.now + int(sku.lead_time_days * supplier.factor(self.rng.random()) * DAY)
        arrive = cal.next_open(due) + self.rng.randrange(45 * MINUTE)
        line = (po, p, qty, supplier.supplier_id, self._tick(), sku.lead_time_days)
        self._po_version(line, "open", line[4])
        self._at(arrive, self._receive, line)
        return line

    def order_for_request(self, sku_id: str, location_id: str, qty: float) -> bool:
        """The ERP loop: a planner orders `qty` of a pair the ERP asked to replenish, at the
        plant's next working hour at least PLANNER_DELAY from now. False for a pair the plant
        does not know or a quantity that rounds to nothing."""
        if sku_id not in self.sku_index or location_id not in self.loc_ids:
            return False
        sku = self.skus[self.sku_index[sku_id]]
        qty = self._round(sku, qty)
        if qty <= 0:
            return False
        p = sku.index * self.n_loc + self.loc_ids.index(location_id)
        self._at(PLANT_HOURS.next_open(self.now + PLANNER_DELAY), self._request_po, (p, qty))
        return True

    def _request_po(self, arg: tuple[int, float]) -> None:
        self._place_po(*arg)

    def _po_version(self, line: tuple, status: str, t: int) -> None:
        po, p, qty, supplier_id, ordered, lead_days = line
        sku_i, loc = divmod(p, self.n_loc)
        rec = {
            "po_id": po,
            "line_id": 1,
            "supplier_id": supplier_id,
            "sku_id": self.skus[sku_i].sku_id,
            "location_id": self.loc_ids[loc],
            "ordered_qty": qty,
            "ordered_at": self._stamp(ordered),
            "promised_at": self._stamp(ordered + int(lead_days * DAY)),
            "status": status,
            "updated_at": self._stamp(t),
        }
        self.emit("po", t, rec)

    def _cancel_po(self, line: tuple) -> None:
        """The buyer cancels an order not yet received (the supplier cannot deliver), and the
        pair is planned again."""
        if line[0] in self.settled:
            return
        self.settled.add(line[0])
        self.inbound[line[1]] -= line[2]
        self._po_version(line, "cancelled", self._tick())
        self._check(line[1])

    def _opening(self, arg: tuple[int, float]) -> None:
        p, qty = arg
        self.on_hand[p] += qty
        self._post_receipt(p, qty, None)

    def _receive(self, line: tuple) -> None:
        po, p, qty = line[:3]
        if po in self.settled:
            return
        self.settled.add(po)
        self.on_hand[p] += qty
        self.inbound[p] -= qty
        self._post_receipt(p, qty, po)
        self._po_version(line, "closed", self._tick())
        if self.quality_holds and self.rng.random() < 0.2:
            share = 1.0 if self.rng.random() < 0.5 else self.rng.uniform(0.2, 0.8)
            held = self._round(self.skus[p // self.n_loc], qty * share)
            if held > 0:
                self._hold(p, held, po, self.rng.uniform(2, 30))
        self._check(p)

    def _post_receipt(self, p: int, qty: float, ref: str | None) -> None:
        sku, rng = self.skus[p // self.n_loc], self.rng
        noise = 0.0 if rng.random() < 0.01 else rng.uniform(0.97, 1.04)
        pack = next((pk for pk in sku.packs if qty % pk[1] == 0), None) if sku.packs else None
        if pack is not None and rng.random() < 0.6:
            uom, factor = pack
            self._wms(
                "receipt",
                p,
                int(qty // factor),
                uom=uom,
                cost=round(sku.std_cost * factor * noise, 2),
                ref=ref,
            )
        else:
            uom = sku.base_uom if rng.random() < 0.1 else None
            self._wms("receipt", p, qty, uom=uom, cost=round(sku.std_cost * noise, 4), ref=ref)

    def _hold(self, p: int, qty: float, ref: str | None, hours: float) -> None:
        self.held[p] += qty
        self._wms("hold", p, qty, ref=ref)
        cal = PLANT_HOURS if p % self.n_loc == self.plant_loc else WAREHOUSE_HOURS
        release = cal.next_open(self.now + int(hours * HOUR))
        self._at(release + self.rng.randrange(30 * MINUTE), self._release, (p, qty, ref))

    def _release(self, arg: tuple[int, float, str | None]) -> None:
        p, qty, ref = arg
        self.held[p] -= qty
        self._wms("release", p, -qty, ref=ref)
        if self.rng.random() < 0.1:
            share = self.rng.uniform(0.1, 0.5)
            rejected = min(self._round(self.skus[p // self.n_loc], qty * share), self._available(p))
            if rejected > 0:
                self.on_hand[p] -= rejected
                self._wms("adjust", p, -rejected, ref=ref)
                self._check(p)

    def _plan_transfer(self, p: int, want: float) -> None:
        """From the plant, else from a warehouse holding more than it needs, else retry later."""
        sku_i, dst = divmod(p, self.n_loc)
        sku = self.skus[sku_i]
        src = self.plant_loc
        qty = self._round(sku, min(want, self._available(sku_i * self.n_loc + src)))
        if qty < max(sku.step, want * 0.25):
            for w in range(len(self.plant.warehouses)):
                q = sku_i * self.n_loc + w
                excess = self._available(q) - self.hi[q]
                if w != dst and excess >= want * 0.5:
                    src, qty = w, self._round(sku, min(want, excess))
                    break
        if qty <= 0:
            self.retry_at[p] = self.now + 4 * HOUR
            self._check(sku_i * self.n_loc + self.plant_loc)
            return
        self.inbound[p] += qty
        cal = PLANT_HOURS if src == self.plant_loc else WAREHOUSE_HOURS
        start = cal.next_open(self.now)
        arg = (sku_i * self.n_loc + src, p, qty)
        if start == self.now:
            self._dispatch(arg)
        else:
            self._at(start + self.rng.randrange(60 * MINUTE), self._dispatch, arg)

    def _dispatch(self, arg: tuple[int, int, float]) -> None:
        """Ships what is still available when the source opens, in pallets or cases if whole."""
        src, dst, planned = arg
        sku = self.skus[src // self.n_loc]
        qty = min(planned, self._round(sku, self._available(src)))
        if qty > self._available(src):
            qty -= sku.step
        self.inbound[dst] -= planned
        if qty <= 0:
            self._check(dst)
            return
        self.inbound[dst] += qty
        self.on_hand[src] -= qty
        tr = self._next_id("TR", 6)
        pack = next((pk for pk in reversed(sku.packs) if qty % pk[1] == 0), None)
        uom, factor = pack if pack is not None and self.rng.random() < 0.6 else (None, 1)
        cost = round(sku.std_cost * factor, 2) if self.rng.random() < 0.3 else None
        moved = int(qty // factor) if uom else qty
        self._wms("transfer_out", src, -moved, uom=uom, cost=cost, ref=tr)
        arrive = WAREHOUSE_HOURS.next_open(self.now + int(self.rng.uniform(3, 10) * HOUR))
        self._at(
            arrive + self.rng.randrange(40 * MINUTE),
            self._transfer_in,
            (dst, qty, moved, uom, cost, tr),
        )
        self._check(src)

    def _transfer_in(self, arg: tuple) -> None:
        dst, qty, moved, uom, cost, tr = arg
        self.on_hand[dst] += qty
        self.inbound[dst] -= qty
        self._wms("transfer_in", dst, moved, uom=uom, cost=cost, ref=tr)
        self._check(dst)
