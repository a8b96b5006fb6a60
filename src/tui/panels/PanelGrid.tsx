// The six panels in their places for the terminal size (presentation/layout.ts), each given
// its data and whether it has the focus.
import { Box } from 'ink';
import type { GpuState, HostState, ServicesState } from '../../system/types.js';
import type { BudgetFeedState } from '../data/budgetFeed.js';
import type { UsageFeedState } from '../data/usageFeed.js';
import type { EngineFeedState } from '../data/engineFeed.js';
import type { GatewayChildState } from '../gatewayChild/state.js';
import type { Layout } from '../presentation/layout.js';
import type { Positions } from '../hooks/useListCursors.js';
import type { PanelId } from './catalog.js';
import { GpuPanel } from './GpuPanel.js';
import { HostPanel } from './HostPanel.js';
import { ServicesPanel } from './ServicesPanel.js';
import { GatewayPanel } from './GatewayPanel.js';
import { BudgetsPanel } from './BudgetsPanel.js';
import { RequestsPanel } from './RequestsPanel.js';

export interface PanelGridProps {
  layout: Layout;
  focused: PanelId;
  nowMs: number;
  data: {
    gpu: GpuState;
    owners: ReadonlyMap<number, string>;
    host: { state: HostState; cpuHistory: readonly number[] };
    services: ServicesState;
    engines: EngineFeedState;
    gateway: GatewayChildState;
    usage: UsageFeedState;
    budgets: BudgetFeedState;
  };
  positions: Positions;
  /** what each list's title says about its filter */
  notes: Partial<Record<'services' | 'budgets' | 'requests', string | null>>;
  busyUnit: string | null;
  rateWindowS: number;
  statsWindowS: number;
}

export function PanelGrid({ layout, focused, nowMs, data, positions, notes, busyUnit, rateWindowS, statsWindowS }: PanelGridProps) {
  return (
    <>
      <Box flexDirection="row" height={layout.topHeight}>
        <GpuPanel state={data.gpu} owners={data.owners} width={layout.leftWidth} height={layout.topHeight} focused={focused === 'gpus'} />
        <Box width={1} />
        <HostPanel state={data.host.state} cpuHistory={data.host.cpuHistory} width={layout.rightWidth} height={layout.topHeight} focused={focused === 'host'} />
      </Box>
      <Box flexDirection="row" height={layout.middleHeight}>
        <ServicesPanel
          state={data.services}
          engines={data.engines}
          selected={positions.services}
          busyUnit={busyUnit}
          width={layout.leftWidth}
          height={layout.middleHeight}
          focused={focused === 'services'}
          filterNote={notes.services ?? null}
          nowMs={nowMs}
        />
        <Box width={1} />
        <GatewayPanel
          state={data.gateway}
          stats={data.usage.stats}
          rateWindowS={rateWindowS}
          statsWindowS={statsWindowS}
          width={layout.rightWidth}
          height={layout.middleHeight}
          focused={focused === 'gateway'}
          nowMs={nowMs}
        />
      </Box>
      <BudgetsPanel
        rows={data.budgets.rows}
        source={data.budgets.source}
        notice={data.budgets.notice}
        sharedGateways={data.budgets.sharedGateways ?? null}
        offset={positions.budgets}
        width={layout.width}
        height={layout.budgetsHeight}
        focused={focused === 'budgets'}
        filterNote={notes.budgets ?? null}
      />
      <RequestsPanel
        rows={data.usage.rows}
        offset={positions.requests}
        notice={data.usage.notice}
        width={layout.width}
        height={layout.requestsHeight}
        focused={focused === 'requests'}
        filterNote={notes.requests ?? null}
      />
    </>
  );
}
