"""The floor's invariants, checked in the database (``picker check``).

What must hold whatever terminals did, crashed or raced — stock conserved, nothing held twice,
nothing executed that did not leave, every status reached by a legal walk.

Each invariant is one query that returns the rows breaking it (none on a healthy floor), so a
check of a 1,000,000-order floor is a handful of scans the database does itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from picker.domain.statuses import ORDER_INITIAL, ORDER_TRANSITIONS
from picker.store.engine import Database

#: Rows shown per broken invariant.
EXAMPLES = 5


@dataclass(frozen=True)
class Finding:
    name: str
    """What must hold, in words."""
    broken: int
    """Rows that break it (0: it holds)."""
    examples: tuple[str, ...]


def _legal_pairs() -> str:
    pairs = [f"'{a.value}>{b.value}'" for a, targets in ORDER_TRANSITIONS.items() for b in targets]
    return ", ".join(sorted(pairs))


def _initial() -> str:
    return ", ".join(sorted(f"'{s.value}'" for s in ORDER_INITIAL))


#: (what must hold, a query of the rows that break it: each row one example in words).
INVARIANTS: tuple[tuple[str, Callable[[], str]], ...] = (
    (
        "stock on hand is what the ledger says (receipts, counts, picks, put-backs)",
        lambda: (
            """
        SELECT st.id, st.on_hand, COALESCE(SUM(m.delta), 0) AS ledger
        FROM stock st
        LEFT JOIN stock_movements m ON m.product_id = st.product_id AND m.bin_id = st.bin_id
        GROUP BY st.id, st.on_hand
        HAVING st.on_hand <> COALESCE(SUM(m.delta), 0)
        """
        ),
    ),
    (
        "reserved stock is what open pick lines still need, bin by bin",
        lambda: (
            """
        SELECT st.id, st.reserved, COALESCE(SUM(t.quantity - t.picked - t.short), 0) AS open
        FROM stock st
        LEFT JOIN pick_tasks t ON t.product_id = st.product_id AND t.bin_id = st.bin_id
        GROUP BY st.id, st.reserved
        HAVING st.reserved <> COALESCE(SUM(t.quantity - t.picked - t.short), 0)
        """
        ),
    ),
    (
        "an order that stopped being picked kept nothing picked (put back in the ledger)",
        lambda: (
            """
        SELECT t.id, o.number, t.picked FROM pick_tasks t JOIN orders o ON o.id = t.order_id
        WHERE t.retired_at IS NOT NULL AND t.picked > 0
        """
        ),
    ),
    (
        "0 <= reserved <= on hand in every bin",
        lambda: "SELECT id, reserved, on_hand FROM stock WHERE reserved < 0 OR reserved > on_hand",
    ),
    (
        "a tote holds an order that is being picked, waits for packing, or is held",
        lambda: (
            """
        SELECT tt.code, o.number, o.status FROM totes tt JOIN orders o ON o.id = tt.order_id
        WHERE o.status NOT IN ('picking', 'picked', 'packing', 'on_hold')
        """
        ),
    ),
    (
        # (A picked order may have none: one back from packing after a void keeps its goods in
        # the box at the table.)
        "an order being picked has a tote",
        lambda: (
            """
        SELECT o.number, o.status FROM orders o
        WHERE o.status = 'picking'
          AND NOT EXISTS (SELECT 1 FROM totes tt WHERE tt.order_id = o.id)
        """
        ),
    ),
    (
        # Only a reserved order is given to a picker: one without would wait for ever.
        "an order waiting to be given to a picker has its stock reserved",
        lambda: (
            """
        SELECT o.number FROM orders o
        WHERE o.status = 'unhandled'
          AND NOT EXISTS (
            SELECT 1 FROM pick_tasks t WHERE t.order_id = o.id AND t.retired_at IS NULL)
        """
        ),
    ),
    (
        "an order waiting for its picker or being picked has its picker",
        lambda: (
            """
        SELECT o.number, o.status FROM orders o
        WHERE o.status IN ('assigned', 'picking') AND o.assignee_id IS NULL
        """
        ),
    ),
    (
        # A line's goods go into the tote its row names: another order's tote (or none) would
        # send them to the wrong packing table.
        "every pick line of an order being picked goes into that order's tote",
        lambda: (
            """
        SELECT o.number, t.id, t.tote_id FROM orders o
        JOIN pick_tasks t ON t.order_id = o.id AND t.retired_at IS NULL
        LEFT JOIN totes tt ON tt.order_id = o.id
        WHERE o.status = 'picking' AND (t.tote_id IS NULL OR tt.id IS NULL OR t.tote_id <> tt.id)
        """
        ),
    ),
    (
        "an order being packed has one packer, and at most one open parcel",
        lambda: (
            """
        SELECT o.number, o.packer_id, COUNT(p.id) AS open_parcels FROM orders o
        LEFT JOIN parcels p ON p.order_id = o.id AND p.status = 'open'
        WHERE o.status = 'packing'
        GROUP BY o.number, o.packer_id
        HAVING COUNT(p.id) > 1
        """
        ),
    ),
    (
        # The packing table resumes a packer's one open order; with two, each one's opening
        # is refused for the other and only a lead can free the packer.
        "a packer has at most one order being packed",
        lambda: (
            """
        SELECT op.badge, COUNT(*) AS orders, MIN(o.number), MAX(o.number) FROM orders o
        JOIN operators op ON op.id = o.packer_id
        WHERE o.status = 'packing'
        GROUP BY op.badge
        HAVING COUNT(*) > 1
        """
        ),
    ),
    (
        # A hold is made when the reservation fails. Stock that arrives later (a receipt, a
        # put-back) or is freed by another order's hold or cancellation may leave it stale until
        # it is tried again: that is no break; nor is stock in a bin a count locked at the time.
        # Stock that covered it all along is.
        "an order held short was short: what it needs was not free when it was held",
        lambda: (
            """
        SELECT h.number, h.held_at FROM (
          SELECT o.id, o.number, MAX(e.at) AS held_at FROM orders o
          JOIN order_events e ON e.order_id = o.id
          WHERE o.status = 'on_hold' AND CAST(o.hold_reasons AS TEXT) LIKE '%"short: %'
          GROUP BY o.id, o.number) h
        WHERE EXISTS (
            SELECT 1 FROM order_lines l WHERE l.order_id = h.id AND l.product_id IS NOT NULL)
          AND NOT EXISTS (
            SELECT 1 FROM (
              SELECT l.product_id, SUM(l.quantity) AS need FROM order_lines l
              WHERE l.order_id = h.id AND l.product_id IS NOT NULL
              GROUP BY l.product_id) n
            WHERE n.need > (
              SELECT COALESCE(SUM(st.on_hand - st.reserved), 0) FROM stock st
              JOIN bins b ON b.id = st.bin_id
              WHERE st.product_id = n.product_id AND b.active
                AND b.role NOT IN ('quarantine', 'receiving')
                AND NOT EXISTS (  -- a bin locked by a count then is not reserved from
                  SELECT 1 FROM count_tasks c WHERE c.bin_id = b.id
                    AND c.started_at <= h.held_at
                    AND (c.closed_at IS NULL OR c.closed_at >= h.held_at))))
          AND NOT EXISTS (
            SELECT 1 FROM order_lines l JOIN stock_movements m ON m.product_id = l.product_id
            WHERE l.order_id = h.id AND m.delta > 0 AND m.at >= h.held_at)
          AND NOT EXISTS (
            SELECT 1 FROM order_lines l
            JOIN order_lines l2 ON l2.product_id = l.product_id AND l2.order_id <> h.id
            JOIN order_events e2 ON e2.order_id = l2.order_id
            WHERE l.order_id = h.id AND e2.to_status IN ('on_hold', 'cancelled')
              AND e2.at >= h.held_at)
        """
        ),
    ),
    (
        "no tracking number is used twice",
        lambda: (
            """
        SELECT tracking_no, COUNT(*) FROM parcels WHERE tracking_no IS NOT NULL
        GROUP BY tracking_no HAVING COUNT(*) > 1
        """
        ),
    ),
    (
        "a parcel is handed over exactly when it is on a pickup",
        lambda: (
            """
        SELECT p.tracking_no, p.status, p.pickup_id FROM parcels p
        WHERE (p.status = 'handed_over') <> (p.pickup_id IS NOT NULL)
        """
        ),
    ),
    (
        "every executed order has all its parcels on closed pickups",
        lambda: (
            """
        SELECT o.number, p.tracking_no, p.status, cp.status AS pickup FROM orders o
        JOIN parcels p ON p.order_id = o.id AND p.status <> 'voided'
        LEFT JOIN courier_pickups cp ON cp.id = p.pickup_id
        WHERE o.status IN ('executed', 'delivered')
          AND (p.status <> 'handed_over' OR cp.status IS NULL OR cp.status <> 'closed')
        UNION ALL
        SELECT o.number, NULL, NULL, NULL FROM orders o
        WHERE o.status IN ('executed', 'delivered')
          AND NOT EXISTS (
            SELECT 1 FROM parcels p WHERE p.order_id = o.id AND p.status <> 'voided')
        """
        ),
    ),
    (
        "every parcel closed at a packing table has its label job",
        lambda: (
            """
        SELECT p.tracking_no FROM parcels p
        WHERE p.label_no IS NOT NULL AND p.status IN ('closed', 'handed_over')
          AND NOT EXISTS (
            SELECT 1 FROM print_jobs j WHERE j.parcel_id = p.id AND j.kind = 'label')
        """
        ),
    ),
    (
        "no scan applied twice (a scan sent again after a lost connection is kept once)",
        lambda: (
            """
        SELECT scan_key, COUNT(*) FROM scan_journal WHERE scan_key IS NOT NULL
        GROUP BY scan_key HAVING COUNT(*) > 1
        """
        ),
    ),
    (
        "no order line is back more often than it was shipped (returned <= handed over)",
        lambda: (
            """
        SELECT o.number, l.sku, l.returned_qty, COALESCE(sh.shipped, 0) AS shipped
        FROM order_lines l JOIN orders o ON o.id = l.order_id
        LEFT JOIN (
          SELECT pi.order_line_id, SUM(pi.quantity) AS shipped FROM parcel_items pi
          JOIN parcels p ON p.id = pi.parcel_id AND p.status = 'handed_over'
          GROUP BY pi.order_line_id) sh ON sh.order_line_id = l.id
        WHERE l.returned_qty > 0 AND l.returned_qty > COALESCE(sh.shipped, 0)
        """
        ),
    ),
    (
        "an order line's returned count is its units received in returns",
        lambda: (
            """
        SELECT o.number, l.sku, l.returned_qty, COALESCE(u.n, 0) AS units
        FROM order_lines l JOIN orders o ON o.id = l.order_id
        LEFT JOIN (
          SELECT order_line_id, COUNT(*) AS n FROM return_units
          WHERE order_line_id IS NOT NULL GROUP BY order_line_id) u ON u.order_line_id = l.id
        WHERE l.returned_qty <> COALESCE(u.n, 0)
        """
        ),
    ),
    (
        "nothing in a quarantine bin is reserved or to be picked (returned goods not for sale)",
        lambda: (
            """
        SELECT b.code, st.product_id, st.reserved FROM stock st JOIN bins b ON b.id = st.bin_id
        WHERE b.role = 'quarantine' AND st.reserved > 0
        UNION ALL
        SELECT b.code, t.product_id, t.quantity - t.picked - t.short FROM pick_tasks t
        JOIN bins b ON b.id = t.bin_id
        WHERE b.role = 'quarantine' AND t.quantity - t.picked - t.short > 0
        """
        ),
    ),
    (
        "a returned unit put away lies where its condition sends it (quarantine or a shelf)",
        lambda: (
            """
        SELECT r.number, u.id, u.condition, b.code, b.role FROM return_units u
        JOIN returns r ON r.id = u.return_id
        LEFT JOIN bins b ON b.id = u.bin_id
        WHERE (u.stocked AND b.id IS NULL)
           OR (u.stocked AND u.condition IN ('damaged', 'defect', 'incomplete')
               AND b.role <> 'quarantine')
           OR (u.stocked AND u.condition = 'resell' AND b.role = 'quarantine')
           OR (u.stocked AND (u.condition IS NULL OR u.condition IN ('scrap', 'foreign')))
        """
        ),
    ),
    (
        "a counted bin's stock is its ledger, and each count changed it by what it found",
        lambda: (
            """
        SELECT b.code, st.product_id, st.on_hand, COALESCE(SUM(m.delta), 0)
        FROM bins b JOIN stock st ON st.bin_id = b.id
        LEFT JOIN stock_movements m ON m.product_id = st.product_id AND m.bin_id = b.id
        WHERE b.counted_at IS NOT NULL
        GROUP BY b.code, st.product_id, st.on_hand
        HAVING st.on_hand <> COALESCE(SUM(m.delta), 0)
        UNION ALL
        SELECT ct.number, l.product_id, l.counted - l.expected, COALESCE(m.delta, 0)
        FROM count_tasks ct
        JOIN count_lines l ON l.task_id = ct.id AND l.round = ct.round
        LEFT JOIN (SELECT document, product_id, SUM(delta) AS delta FROM stock_movements
                   WHERE reason = 'count' AND document IS NOT NULL
                   GROUP BY document, product_id) m
          ON m.document = ct.number AND m.product_id = l.product_id
        WHERE ct.status = 'done' AND l.counted - l.expected <> COALESCE(m.delta, 0)
        UNION ALL
        SELECT ct.number, m.product_id, 0, SUM(m.delta)
        FROM count_tasks ct JOIN stock_movements m ON m.document = ct.number
        WHERE m.reason = 'count' AND ct.status <> 'done'
        GROUP BY ct.number, m.product_id, ct.status
        """
        ),
    ),
    (
        "the dock is drained only by put-away (a receiving bin: receipts, undos and put-aways "
        "only, its stock their sum, nothing reserved; every unit put away lands in a bin)",
        lambda: (
            """
        SELECT b.code, m.reason, m.delta FROM stock_movements m JOIN bins b ON b.id = m.bin_id
        WHERE b.role = 'receiving' AND (
              m.reason NOT IN ('receipt', 'receipt_undo', 'putaway')
           OR (m.reason = 'receipt' AND m.delta < 0)
           OR (m.reason IN ('receipt_undo', 'putaway') AND m.delta > 0))
        UNION ALL
        SELECT b.code, CAST(st.product_id AS VARCHAR(20)), st.reserved FROM stock st
        JOIN bins b ON b.id = st.bin_id
        WHERE b.role = 'receiving' AND (st.reserved > 0 OR st.on_hand <> COALESCE((
          SELECT SUM(m.delta) FROM stock_movements m
          WHERE m.product_id = st.product_id AND m.bin_id = st.bin_id
            AND m.reason IN ('receipt', 'receipt_undo', 'putaway')), 0))
        UNION ALL
        SELECT b.code, CAST(t.product_id AS VARCHAR(20)), t.quantity - t.picked - t.short
        FROM pick_tasks t JOIN bins b ON b.id = t.bin_id
        WHERE b.role = 'receiving' AND t.quantity - t.picked - t.short > 0
        UNION ALL
        SELECT 'put away', CAST(m.product_id AS VARCHAR(20)), SUM(m.delta) FROM stock_movements m
        WHERE m.reason = 'putaway' GROUP BY m.product_id HAVING SUM(m.delta) <> 0
        """
        ),
    ),
    (
        "every order's events are a legal walk of the state machine",
        lambda: (
            f"""
        SELECT e.order_id, e.id, e.from_status, e.to_status, e.prev FROM (
          SELECT order_id, id, from_status, to_status,
                 LAG(to_status) OVER (PARTITION BY order_id ORDER BY id) AS prev
          FROM order_events) e
        WHERE (e.prev IS NULL AND (e.from_status IS NOT NULL OR e.to_status NOT IN ({_initial()})))
           OR (e.prev IS NOT NULL AND (e.from_status IS NULL OR e.from_status <> e.prev))
           OR (e.from_status IS NOT NULL AND e.from_status <> e.to_status
               AND (e.from_status || '>' || e.to_status) NOT IN ({_legal_pairs()}))
        """
        ),
    ),
    (
        "every order's status is where its events end",
        lambda: (
            """
        SELECT o.number, o.status, e.to_status FROM orders o
        JOIN order_events e ON e.id = (
          SELECT MAX(e2.id) FROM order_events e2 WHERE e2.order_id = o.id)
        WHERE e.to_status <> o.status
        UNION ALL
        SELECT o.number, o.status, NULL FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id)
        """
        ),
    ),
)


def check(
    db: Database, *, progress: Callable[[int, int], None] = lambda done, total: None
) -> list[Finding]:
    """Every invariant, in one read-only snapshot per invariant; the rows that break each."""
    findings = []
    for i, (name, query) in enumerate(INVARIANTS):
        with db.read() as s:
            broken, examples = _run(s, query())
        findings.append(Finding(name, broken, examples))
        progress(i + 1, len(INVARIANTS))
    return findings


def _run(s: Session, query: str) -> tuple[int, tuple[str, ...]]:
    """The breaking rows counted as they stream past (a broken floor may have millions), the
    first few kept as examples."""
    broken = 0
    examples: list[str] = []
    for row in s.execute(text(query).execution_options(stream_results=True, yield_per=1000)):
        broken += 1
        if len(examples) < EXAMPLES:
            examples.append(" ".join(str(v) for v in row))
    return broken, tuple(examples)
