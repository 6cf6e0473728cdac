"""A slow, obviously-correct twin of the simulation kernel.

Plain Python, one bar at a time, written to be read next to the rules in the
docstring of :mod:`shortthehype.engine` rather than to be fast.  It takes the
same prepared inputs as the kernel (a :class:`shortthehype.engine.SimulationInputs`)
and returns the same things as plain Python lists, so tests can compare the
two on random and edge cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shortthehype.constants import (
    CASH_TOLERANCE,
    DAY_COUNT_BASIS,
    GROSS_TOLERANCE,
    MARGIN_TOLERANCE,
    ORDER_SIZE_TOLERANCE,
)
from shortthehype.enums import (
    AP_BORROW_FEE,
    AP_FEES,
    AP_FIXED_FEES,
    AP_SLIPPAGE,
    AP_STOP_LOSS,
    AP_TAKE_PROFIT,
    AP_TRAILING_STOP,
    AP_SETTLES,
    AP_UNITS,
)

NAN = float("nan")


def finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


@dataclass
class Trade:
    asset: int
    direction: str  # "long" | "short"
    entry_bar: int
    bought_value: float = 0.0  # entering fills: sum of size x price
    bought_size: float = 0.0
    sold_value: float = 0.0  # exiting fills
    sold_size: float = 0.0
    fees: float = 0.0
    borrow: float = 0.0
    exit_bar: int = -1
    status: str = "open"
    mark: float = NAN

    def result(self, remaining: float = 0.0, mark: float = NAN) -> dict:
        exit_value, exit_size = self.sold_value, self.sold_size
        if remaining:
            exit_value += remaining * mark
            exit_size += remaining
        gain = exit_value - self.bought_value
        if self.direction == "short":
            gain = -gain
        pnl = gain - self.fees - self.borrow
        return {
            "asset": self.asset,
            "direction": self.direction,
            "entry_bar": self.entry_bar,
            "exit_bar": self.exit_bar,
            "size": self.bought_size,
            "entry_price": self.bought_value / self.bought_size,
            "exit_price": exit_value / exit_size,
            "pnl": pnl,
            "ret": pnl / self.bought_value,
            "fees": self.fees,
            "borrow": self.borrow,
            "status": self.status,
        }


@dataclass
class Holding:
    shares: float = 0.0
    avg_entry: float = NAN
    best: float = NAN
    opened_bar: int = -1
    last_close: float = NAN
    trade: Trade | None = None


@dataclass
class Account:
    cash: float
    holdings: list[Holding]
    orders: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    fees: float = 0.0
    slippage: float = 0.0
    borrow: float = 0.0
    interest_paid: float = 0.0
    pending: str = ""  # "" | "margin" | "liquidate"
    gross_pending: bool = False  # a close above max_gross: cut at the next execution point
    closed: bool = False
    bankrupt: bool = False


class Reference:
    """One simulation; call :meth:`run`."""

    def __init__(self, inputs) -> None:
        self.x = inputs
        self.n_bars, self.n = inputs.close.shape
        self.fee = inputs.asset_params[AP_FEES]
        self.fixed = inputs.asset_params[AP_FIXED_FEES]
        self.slip = inputs.asset_params[AP_SLIPPAGE]
        self.borrow_rate = inputs.asset_params[AP_BORROW_FEE]
        self.sl = inputs.asset_params[AP_STOP_LOSS]
        self.tp = inputs.asset_params[AP_TAKE_PROFIT]
        self.tsl = inputs.asset_params[AP_TRAILING_STOP]
        self.units = inputs.asset_params[AP_UNITS]  # 1 = targets are share counts
        self.settles = inputs.asset_params[AP_SETTLES]  # 1 = the last valid close is a cash settlement
        self.acc = Account(cash=inputs.init_cash, holdings=[Holding() for _ in range(self.n)])
        self.last_valid = []
        for j in range(self.n):
            valid = [i for i in range(self.n_bars) if finite(inputs.close[i, j])]
            self.last_valid.append(valid[-1] if valid else -1)

    # ---- bookkeeping ----------------------------------------------------------------------

    def event(self, bar, kind, asset, a, b):
        self.acc.events.append({"bar": bar, "kind": kind, "asset": asset, "value_a": a, "value_b": b})

    def trade_to(self, bar, j, target, price, reason, status="filled"):
        """Fill asset j from its current shares to `target` at `price` plus slippage, paying fees."""
        h = self.acc.holdings[j]
        size = target - h.shares
        if size == 0:
            return
        slip = 0.0 if reason == "settlement" else self.slip[j]  # a settlement pays its value, without costs
        fill = price * (1 + slip) if size > 0 else price * (1 - slip)
        fee = 0.0 if reason == "settlement" else abs(size) * fill * self.fee[j] + self.fixed[j]
        self.acc.cash -= size * fill + fee
        self.acc.fees += fee
        self.acc.slippage += abs(size) * abs(fill - price)
        self.acc.orders.append(
            {
                "bar": bar,
                "asset": j,
                "side": "buy" if size > 0 else "sell",
                "size": abs(size),
                "price": fill,
                "fees": fee,
                "reason": reason,
                "status": status,
            }
        )
        old = h.shares
        h.shares = target
        if old == 0:
            self.open_trade(bar, j, abs(target), fill, fee)
        elif (old > 0) == (target > 0) and target != 0 and abs(target) > abs(old):
            h.avg_entry = (abs(old) * h.avg_entry + abs(size) * fill) / abs(target)
            h.trade.bought_value += abs(size) * fill
            h.trade.bought_size += abs(size)
            h.trade.fees += fee
        elif (old > 0) == (target > 0) and target != 0:
            h.trade.sold_value += abs(size) * fill
            h.trade.sold_size += abs(size)
            h.trade.fees += fee
        else:  # flat or reversed: the trade ends
            part = abs(old) / abs(size)
            h.trade.sold_value += abs(old) * fill
            h.trade.sold_size += abs(old)
            h.trade.fees += fee * part
            h.trade.exit_bar = bar
            h.trade.status = "closed"
            self.acc.trades.append(h.trade.result())
            h.trade = None
            h.avg_entry = NAN
            h.best = NAN
            if target != 0:
                self.open_trade(bar, j, abs(target), fill, fee * (1 - part))

    def open_trade(self, bar, j, qty, fill, fee):
        h = self.acc.holdings[j]
        h.avg_entry = fill
        h.best = fill
        h.opened_bar = bar
        h.trade = Trade(asset=j, direction="long" if h.shares > 0 else "short", entry_bar=bar)
        h.trade.bought_value = qty * fill
        h.trade.bought_size = qty
        h.trade.fees = fee

    def mark_price(self, j, price):
        p = price[j]
        return p if finite(p) else self.acc.holdings[j].last_close

    def value_at(self, price):
        total = self.acc.cash
        for j, h in enumerate(self.acc.holdings):
            if h.shares != 0:
                total += h.shares * self.mark_price(j, price)
        return total

    def gross_at(self, price):
        return sum(abs(h.shares * self.mark_price(j, price)) for j, h in enumerate(self.acc.holdings) if h.shares != 0)

    # ---- phases ---------------------------------------------------------------------------

    def accrue(self, i):
        d = self.x.days[i]
        if d <= 0:
            return
        cash = self.acc.cash
        # the days since bar i-1 earn the rate known at bar i-1 (never bar i's)
        rate = self.x.cash_rate[i - 1] if cash > 0 else self.x.cash_rate_negative[i - 1]
        interest = cash * (rate * d / DAY_COUNT_BASIS)  # the engine's order: the day's factor, then times the cash
        self.acc.cash += interest
        self.acc.interest_paid -= interest
        for j, h in enumerate(self.acc.holdings):
            if h.shares < 0 and self.borrow_rate[j] > 0:
                cost = self.borrow_rate[j] * -h.shares * h.last_close * d / DAY_COUNT_BASIS
                self.acc.cash -= cost
                self.acc.borrow += cost
                h.trade.borrow += cost

    def rebalance(self, i, price, w):
        value = self.value_at(price)
        if not value > 0:
            return
        # a target trades at a finite positive price; a target of 0 at any finite price (a worthless instrument can be sold)
        listed = [j for j in range(self.n) if not math.isnan(w[j]) and finite(price[j]) and (price[j] > 0 or w[j] == 0)]
        # share-count targets are taken as given: neither scaled nor counted in the gross
        asked = sum(abs(w[j]) for j in range(self.n) if not math.isnan(w[j]) and self.units[j] != 1.0)
        tradeable = sum(abs(w[j]) for j in listed if self.units[j] != 1.0)
        scale = 1.0
        if self.x.renormalize and tradeable > 0:
            scale = asked / tradeable
        if tradeable * scale > self.x.max_gross:
            scale = self.x.max_gross / tradeable
        targets = [h.shares for h in self.acc.holdings]
        for j in listed:
            if self.units[j] == 1.0:
                targets[j] = w[j]
                continue
            shares = 0.0 if w[j] == 0 else (w[j] * scale) * value / price[j]
            targets[j] = math.trunc(shares) if self.x.integer_shares else shares
        planned = value - sum(targets[j] * self.mark_price(j, price) for j in range(self.n) if targets[j] != 0)
        floor = min(0.0, planned)

        def wanted(j):
            size = targets[j] - self.acc.holdings[j].shares
            noise = abs(size) <= ORDER_SIZE_TOLERANCE * max(abs(targets[j]), abs(self.acc.holdings[j].shares))
            return 0.0 if noise else size

        for j in range(self.n):
            if wanted(j) < 0:
                self.trade_to(i, j, targets[j], price[j], "rebalance")
        buys = [j for j in range(self.n) if wanted(j) > 0]
        if not buys:
            return
        cost = sum(wanted(j) * price[j] * (1 + self.slip[j]) * (1 + self.fee[j]) for j in buys)
        fixed = sum(self.fixed[j] for j in buys)
        available = self.acc.cash - floor
        if cost + fixed <= available + CASH_TOLERANCE * value:
            for j in buys:
                self.trade_to(i, j, targets[j], price[j], "rebalance")
            return
        k = (available - fixed) / cost
        if k <= 0:
            self.event(i, "order_rejected", -1, available, cost + fixed)
            return
        for j in buys:
            shares = self.acc.holdings[j].shares
            extra = wanted(j) * k
            if self.x.integer_shares:
                extra = math.floor(extra)
            if extra != 0:
                self.trade_to(i, j, shares + extra, price[j], "rebalance", status="partial")

    def close_out(self, i, price, reason):
        count = 0
        for j, h in enumerate(self.acc.holdings):
            if h.shares != 0 and finite(price[j]):
                self.trade_to(i, j, 0.0, price[j], reason)
                count += 1
        return count

    def liquidate(self, i, price):
        count = self.close_out(i, price, "liquidation")
        self.acc.closed = True
        self.acc.bankrupt = True
        self.acc.pending = ""
        self.event(i, "liquidation", -1, self.value_at(price), count)

    def bankruptcy(self, i, price, equity):
        if self.acc.pending == "liquidate":
            return
        self.event(i, "bankruptcy", -1, equity, self.gross_at(price))
        if all(h.shares == 0 for h in self.acc.holdings):
            self.acc.closed = True
            self.acc.bankrupt = True
            self.acc.pending = ""
        else:
            self.acc.pending = "liquidate"

    def margin_cut(self, i, price):
        m = self.x.maintenance_margin
        equity = self.value_at(price)
        tradeable_gross = 0.0
        stuck_gross = 0.0
        var_cost = 0.0
        fixed_cost = 0.0
        for j, h in enumerate(self.acc.holdings):
            if h.shares == 0:
                continue
            if finite(price[j]):
                notional = abs(h.shares) * price[j]
                tradeable_gross += notional
                if h.shares > 0:  # sell at p (1 - s), fee on that
                    var_cost += notional * (self.slip[j] + self.fee[j] * (1 - self.slip[j]))
                else:  # cover at p (1 + s)
                    var_cost += notional * (self.slip[j] + self.fee[j] * (1 + self.slip[j]))
                fixed_cost += self.fixed[j]
            else:
                stuck_gross += abs(h.shares) * h.last_close
        if equity >= m * (tradeable_gross + stuck_gross) * (1 - MARGIN_TOLERANCE):
            return
        if m * tradeable_gross - var_cost <= 0:
            keep = 0.0
        else:
            keep = (equity - var_cost - fixed_cost - m * stuck_gross) / (m * tradeable_gross - var_cost)
            keep = min(1.0, max(0.0, keep))
        if keep >= 1.0:
            return
        for j, h in enumerate(self.acc.holdings):
            if h.shares != 0 and finite(price[j]):
                target = keep * h.shares
                if self.x.integer_shares:
                    target = math.trunc(target)
                self.trade_to(i, j, target, price[j], "margin_call")
        self.event(i, "margin_cut", -1, self.value_at(price), self.gross_at(price))

    def gross_cut(self, i, price):
        """Scale every position by one factor k so that gross = max_gross x equity after the cut's costs.

        Closing a fraction (1 - k) of everything costs (1 - k) C + F (C: variable costs of closing all,
        F: fixed fees), so k solves  k G_t + G_u = M (E - (1 - k) C - F)  (G_t / G_u: gross with / without
        a price here, M = max_gross, E = equity).
        """
        cap = self.x.max_gross
        equity = self.value_at(price)
        if not equity > 0:
            return
        tradeable_gross = stuck_gross = var_cost = fixed_cost = 0.0
        for j, h in enumerate(self.acc.holdings):
            if h.shares == 0:
                continue
            if finite(price[j]):
                notional = abs(h.shares) * price[j]
                tradeable_gross += notional
                fill = price[j] * (1 - self.slip[j]) if h.shares > 0 else price[j] * (1 + self.slip[j])
                var_cost += abs(h.shares) * abs(fill - price[j]) + abs(h.shares) * fill * self.fee[j]
                fixed_cost += self.fixed[j]
            else:
                stuck_gross += abs(h.shares) * h.last_close
        before = (tradeable_gross + stuck_gross) / equity
        if before <= cap * (1 + GROSS_TOLERANCE):
            return
        if tradeable_gross - cap * var_cost <= 0:
            keep = 0.0
        else:
            keep = (cap * (equity - var_cost - fixed_cost) - stuck_gross) / (tradeable_gross - cap * var_cost)
            keep = min(1.0, max(0.0, keep))
        if keep >= 1.0:
            return
        for j, h in enumerate(self.acc.holdings):
            if h.shares != 0 and finite(price[j]):
                target = keep * h.shares
                if self.x.integer_shares:
                    target = math.trunc(target)
                self.trade_to(i, j, target, price[j], "gross_cap")
        self.event(i, "gross_cap", -1, before, self.gross_at(price) / self.value_at(price))

    def execute(self, i, price, w, at_open):
        acc = self.acc
        gross_pending, acc.gross_pending = acc.gross_pending, False
        if acc.closed:
            self.close_out(i, price, "liquidation")
            return
        if acc.pending == "liquidate":
            self.liquidate(i, price)
            return
        n_orders = len(acc.orders)
        cash_before = acc.cash
        if w is not None:
            self.rebalance(i, price, w)
        if acc.pending == "margin":
            acc.pending = ""
            equity = self.value_at(price)
            if equity <= 0:
                self.bankruptcy(i, price, equity)
                self.liquidate(i, price)
                return
            self.margin_cut(i, price)
        if gross_pending:
            self.gross_cut(i, price)
        traded = len(acc.orders) != n_orders or acc.cash != cash_before
        if at_open and traded:
            equity = self.value_at(price)
            if equity <= 0:
                self.bankruptcy(i, price, equity)

    def stops(self, i):
        x = self.x
        for j, h in enumerate(self.acc.holdings):
            if h.shares == 0 or h.opened_bar >= i:
                continue
            if math.isnan(self.sl[j]) and math.isnan(self.tp[j]) and math.isnan(self.tsl[j]):
                continue
            o, hi, lo = x.open[i, j], x.high[i, j], x.low[i, j]
            if not (finite(o) and finite(hi) and finite(lo)):
                continue
            long = h.shares > 0
            candidates = []  # (level, reason) of the adverse stops
            if not math.isnan(self.sl[j]):
                candidates.append((h.avg_entry * (1 - self.sl[j]) if long else h.avg_entry * (1 + self.sl[j]), "stop_loss"))
            if not math.isnan(self.tsl[j]):
                candidates.append((h.best * (1 - self.tsl[j]) if long else h.best * (1 + self.tsl[j]), "trailing_stop"))
            stop = None
            for level, reason in candidates:  # the tighter one; stop_loss on a tie
                if stop is None or (long and level > stop[0]) or (not long and level < stop[0]):
                    stop = (level, reason)
            profit = None
            if not math.isnan(self.tp[j]):
                profit = h.avg_entry * (1 + self.tp[j]) if long else h.avg_entry * (1 - self.tp[j])

            def adverse(price):
                return price <= stop[0] if long else price >= stop[0]

            def favourable(price):
                return price >= profit if long else price <= profit

            worst = lo if long else hi
            best = hi if long else lo
            hit = None
            if stop is not None and adverse(o):
                hit = (stop[1], stop[0], o)
            elif profit is not None and favourable(o):
                hit = ("take_profit", profit, o)
            elif stop is not None and adverse(worst):
                hit = (stop[1], stop[0], stop[0])
            elif profit is not None and favourable(best):
                hit = ("take_profit", profit, profit)
            if hit is None:
                continue
            reason, level, price = hit
            self.trade_to(i, j, 0.0, price, reason)
            self.event(i, reason, j, level, price)

    def run(self):
        x = self.x
        acc = self.acc
        rows = {int(b): x.row_w[r] for r, b in enumerate(x.row_bar)}
        equity_out, cash_out, positions_out = [], [], []
        for i in range(self.n_bars):
            if i > 0 and not (acc.closed and all(h.shares == 0 for h in acc.holdings)):
                self.accrue(i)
            w = rows.get(i)
            if x.exec_at_open:
                self.execute(i, x.open[i], w, at_open=True)
            if not acc.closed and any(not math.isnan(v) for v in (*self.sl, *self.tp, *self.tsl)):
                self.stops(i)
            if not x.exec_at_open:
                self.execute(i, x.close[i], w, at_open=False)
            if i < self.n_bars - 1:
                for j, h in enumerate(acc.holdings):
                    if self.last_valid[j] == i and h.shares != 0:
                        shares = h.shares
                        reason = "settlement" if self.settles[j] == 1.0 else "delisting"
                        self.trade_to(i, j, 0.0, x.close[i, j], reason)
                        self.event(i, reason, j, x.close[i, j], shares)
            for j, h in enumerate(acc.holdings):
                if finite(x.close[i, j]):
                    h.last_close = x.close[i, j]
            equity = acc.cash + sum(h.shares * h.last_close for h in acc.holdings if h.shares != 0)
            if not acc.closed:
                if equity <= 0:
                    self.bankruptcy(i, x.close[i], equity)
                elif x.maintenance_margin > 0:
                    need = x.maintenance_margin * self.gross_at(x.close[i])
                    if equity < need * (1 - MARGIN_TOLERANCE):
                        self.event(i, "margin_call", -1, equity, need)
                        if acc.pending == "":
                            acc.pending = "margin"
                if equity > 0 and self.gross_at(x.close[i]) > x.max_gross * equity * (1 + GROSS_TOLERANCE):
                    acc.gross_pending = True  # trade back to max_gross at the next execution point
            for j, h in enumerate(acc.holdings):
                if h.shares != 0 and h.opened_bar < i:
                    if h.shares > 0:
                        h.best = max(h.best, x.high[i, j])
                    else:
                        h.best = min(h.best, x.low[i, j])
            equity_out.append(equity)
            cash_out.append(acc.cash)
            positions_out.append([h.shares for h in acc.holdings])
        for j, h in enumerate(acc.holdings):
            if h.shares != 0:
                h.trade.exit_bar = self.n_bars - 1
                acc.trades.append(h.trade.result(abs(h.shares), h.last_close))
        return {
            "equity": np.array(equity_out),
            "cash": np.array(cash_out),
            "positions": np.array(positions_out).reshape(self.n_bars, self.n),
            "orders": acc.orders,
            "trades": acc.trades,
            "events": acc.events,
            "costs": {"fees": acc.fees, "slippage": acc.slippage, "borrow": acc.borrow, "interest": acc.interest_paid},
            "status": "bankrupt" if acc.bankrupt else "ok",
        }


def reference_simulate(inputs) -> dict:
    """Run the reference simulation on prepared inputs (see :func:`shortthehype.engine.prepare_inputs`)."""
    return Reference(inputs).run()


# ---- random scenarios shared by the kernel-vs-reference and property tests ----------------


def random_prices(rng: np.random.Generator, n_bars: int, n_assets: int, *, jumps: bool = True, gaps: bool = True):
    """A Prices of random OHLC walks with optional jumps, late listings, delistings and halts."""
    import pandas as pd

    from shortthehype.data.prices import Prices

    vol = rng.uniform(0.005, 0.04, n_assets)
    steps = rng.normal(0.0, 1.0, (n_bars, n_assets)) * vol
    if jumps:
        jump = rng.random((n_bars, n_assets)) < 0.03
        steps = np.where(jump, rng.choice([-0.5, -0.3, 0.4, 1.2], size=(n_bars, n_assets)), steps)
    close = rng.uniform(5, 200, n_assets) * np.exp(np.cumsum(steps, axis=0))
    gap = rng.normal(0.0, 1.0, (n_bars, n_assets)) * vol * 0.7
    open_ = np.vstack([close[:1], close[:-1]]) * np.exp(gap)
    spread = np.abs(rng.normal(0.0, 1.0, (n_bars, n_assets))) * vol
    high = np.maximum(open_, close) * np.exp(spread)
    low = np.minimum(open_, close) * np.exp(-spread * rng.uniform(0.5, 1.5, (n_bars, n_assets)))
    if gaps and n_bars >= 6:
        for j in range(n_assets):
            kind = rng.integers(0, 5)
            if kind == 1:  # lists late
                start = int(rng.integers(1, n_bars // 2))
                for a in (open_, high, low, close):
                    a[:start, j] = np.nan
            elif kind == 2:  # delists
                end = int(rng.integers(n_bars // 2, n_bars - 1))
                for a in (open_, high, low, close):
                    a[end:, j] = np.nan
            elif kind == 3:  # a short halt
                at = int(rng.integers(1, n_bars - 3))
                for a in (open_, high, low, close):
                    a[at : at + 2, j] = np.nan
    index = pd.bdate_range("2021-01-04", periods=n_bars, name="date")
    tickers = [f"T{j}" for j in range(n_assets)]

    def frame(a):
        return pd.DataFrame(a, index=index, columns=tickers)

    volume = frame(np.full((n_bars, n_assets), np.nan))
    return Prices(open=frame(open_), high=frame(high), low=frame(low), close=frame(close), volume=volume)


def random_weights(rng: np.random.Generator, prices, *, n_rows: int, gross: float = 1.0, shorts: bool = True):
    """Random target rows on random dates: some NaN (no order), some zero, long/short mixes."""
    import pandas as pd

    n_bars, n_assets = prices.close.shape
    bars = np.sort(rng.choice(n_bars, size=min(n_rows, n_bars), replace=False))
    low = -1.0 if shorts else 0.0
    w = rng.uniform(low, 1.0, (len(bars), n_assets))
    w *= gross / np.maximum(np.abs(w).sum(axis=1, keepdims=True), 1e-12)
    w[rng.random(w.shape) < 0.2] = np.nan
    w[rng.random(w.shape) < 0.1] = 0.0
    return pd.DataFrame(w, index=prices.index[bars], columns=prices.tickers)
