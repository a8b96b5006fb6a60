// Budgets: spend against limit over the rolling window, fullest first, yellow from 80 % and
// red with EXCEEDED from 100 %, and when each runs out at the last hour's rate. In shared mode
// the summary says how many gateways share them (the spend shown is their sum).
import React, { memo } from 'react';
import { Text } from 'ink';
import { bar, displayWidth, fit } from '../presentation/format.js';
import { budgetFraction, budgetTone, forecast, forecastText, moneyPair, type BudgetRow, type BudgetSourceKind } from '../presentation/budgetView.js';
import { useTheme } from '../contexts/ThemeContext.js';
import { budgetKey } from '../../config/schema.js';
import { visibleRows } from '../presentation/listCursor.js';
import { PanelFrame } from './PanelFrame.js';
import { Line, noticeLines } from './Line.js';

export interface BudgetsPanelProps {
  rows: readonly BudgetRow[];
  source: BudgetSourceKind;
  notice: string | null;
  /** shared mode: how many gateways share these budgets (null: this gateway's alone) */
  sharedGateways?: number | null;
  /** the selected row (Enter opens it) */
  offset: number;
  width: number;
  height: number;
  focused: boolean;
  /** the filter, as the title says it */
  filterNote?: string | null;
}

const SCOPE_SHORT = { provider: 'prov', model: 'model', capability: 'cap', key: 'key' } as const;

function BudgetLine({ row, width, moneyW, selected }: { row: BudgetRow; width: number; moneyW: number; selected: boolean }) {
  const theme = useTheme();
  const wide = width >= 100;
  const f = budgetFraction(row);
  const tone = theme.tone(budgetTone(row));
  const label = fit(`${wide ? row.scope : SCOPE_SHORT[row.scope]} ${row.target}`, wide ? 24 : 16);
  const money = fit(moneyPair(row.spend_usd, row.max_budget_usd), moneyW, 'right');
  const percent = fit(`${Math.floor(f * 100)}%`, 5, 'right');
  const window = fit(row.budget_window, 4, 'right');
  const action = fit(row.action, 5);
  const outlook = forecast(row);
  const exceeded = outlook.kind === 'exceeded';
  const forecastW = wide ? 26 : 11;
  const barW = Math.max(4, width - [label, money, percent, window, action].reduce((n, s) => n + displayWidth(s), 0) - forecastW - 6);
  return (
    <Text wrap="truncate" inverse={selected}>
      {label} {money} <Text color={tone}>{bar(f, barW)}</Text>
      <Text color={tone}>{percent}</Text> {window} {action}{' '}
      <Text color={exceeded ? tone : undefined} bold={exceeded} dimColor={outlook.kind !== 'exceeded' && outlook.kind !== 'exceeds'}>
        {fit(forecastText(outlook, wide), forecastW)}
      </Text>
    </Text>
  );
}

export const BudgetsPanel = memo(function BudgetsPanel({ rows, source, notice, sharedGateways, offset, width, height, focused, filterNote }: BudgetsPanelProps) {
  const body = Math.max(0, height - 1);
  const lines: React.ReactNode[] = noticeLines(notice);
  if (rows.length === 0 && !notice) {
    lines.push(
      <Line key="none" tone="dim">
        {filterNote ? 'no budget matches the filter (Esc clears it)' : 'no budgets configured'}
      </Line>,
    );
  }
  const room = body - lines.length;
  const { shown, window } = visibleRows(rows, offset, 'select', room);
  // one money column for all rows: as wide as the widest pair, so small budgets keep their digits
  const moneyW = Math.max(15, ...shown.map((r) => moneyPair(r.spend_usd, r.max_budget_usd).length));
  shown.forEach((row, i) =>
    lines.push(
      <BudgetLine key={budgetKey(row.scope, row.target)} row={row} width={width} moneyW={moneyW} selected={focused && window.start + i === window.selected} />,
    ),
  );
  const exceeded = rows.filter((r) => r.exceeded || budgetFraction(r) >= 1).length;
  // spend_usd of a shared budget is the sum over the gateways on one Redis
  const shared = rows.some((r) => r.shared) ? (sharedGateways ?? Math.max(...rows.map((r) => r.shared?.gateways.length ?? 0))) : null;
  const parts = [
    shared !== null ? `shared · ${shared} gateway${shared === 1 ? '' : 's'}` : null,
    exceeded > 0 ? `${exceeded} exceeded` : null,
    rows.length > room ? `${window.start + 1}-${window.end}/${rows.length}` : null,
    source === 'gateway' ? 'from gateway' : source === 'log' ? 'from usage log' : null,
    width >= 100 ? "forecast at last hour's rate" : null,
  ].filter(Boolean);
  return (
    <PanelFrame heading="budgets" focused={focused} width={width} height={height} summary={parts.join(' · ') || undefined} note={filterNote}>
      {lines}
    </PanelFrame>
  );
});
