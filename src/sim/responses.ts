// The simulated upstream's Responses API (POST /v1/responses), for a provider that serves it
// natively, and the tool calls both of its APIs make. Written on its own, from the API's
// documented shapes, so the gateway's translation is checked against an independent stream:
// response.created, response.in_progress, output_item.added, content_part.added,
// output_text.delta..., output_text.done, content_part.done, output_item.done, and
// response.completed (or response.incomplete at the output limit); function calls as
// output_item.added, function_call_arguments.delta..., .done, output_item.done.
import type http from 'node:http';

type Obj = Record<string, any>;

export interface ResponsesReply {
  id: string;
  model: string;
  words: string[];
  promptTokens: number;
  call: { name: string; arguments: string } | null;
  /** output cut short by max_output_tokens */
  incomplete: boolean;
  intervalMs: number;
  /** destroy the connection after this many deltas (mode cut); -1 = never */
  cutAt: number;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

function baseResponse(r: ResponsesReply, body: Obj, status: string): Obj {
  return {
    id: r.id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: r.model,
    output: [] as Obj[],
    parallel_tool_calls: true,
    previous_response_id: null,
    store: false,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    usage: null,
  };
}

function finalOutput(r: ResponsesReply): Obj[] {
  if (r.call) {
    return [{ id: `fc_${r.id}`, type: 'function_call', status: 'completed', call_id: `call_${r.id}`, name: r.call.name, arguments: r.call.arguments }];
  }
  const text = r.words.join(' ');
  return [
    {
      id: `msg_${r.id}`,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [] }],
    },
  ];
}

function usageOf(r: ResponsesReply): Obj {
  const output = r.call ? 1 : r.words.length;
  return {
    input_tokens: r.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: r.promptTokens + output,
  };
}

export function completeResponse(r: ResponsesReply, body: Obj): Obj {
  const status = r.incomplete ? 'incomplete' : 'completed';
  return {
    ...baseResponse(r, body, status),
    incomplete_details: r.incomplete ? { reason: 'max_output_tokens' } : null,
    output: finalOutput(r),
    usage: usageOf(r),
  };
}

export async function streamResponse(res: http.ServerResponse, r: ResponsesReply, body: Obj): Promise<void> {
  let seq = 0;
  const send = (type: string, fields: Obj) => {
    if (!res.destroyed) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
  };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  send('response.created', { response: baseResponse(r, body, 'in_progress') });
  send('response.in_progress', { response: baseResponse(r, body, 'in_progress') });
  const [item] = finalOutput(r);
  if (item.type === 'function_call') {
    send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    const half = Math.ceil(item.arguments.length / 2);
    for (const piece of [item.arguments.slice(0, half), item.arguments.slice(half)]) {
      await sleep(r.intervalMs);
      send('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: piece });
    }
    send('response.function_call_arguments.done', { item_id: item.id, output_index: 0, name: item.name, arguments: item.arguments });
  } else {
    send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    send('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    for (let i = 0; i < r.words.length; i++) {
      if (i === r.cutAt) {
        await sleep(50); // let what was written reach the caller, then fail mid-stream
        res.destroy();
        return;
      }
      if (i > 0) await sleep(r.intervalMs);
      send('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: (i === 0 ? '' : ' ') + r.words[i], logprobs: [] });
    }
    const part = item.content[0];
    send('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text: part.text, logprobs: [] });
    send('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part });
  }
  send('response.output_item.done', { output_index: 0, item });
  const final = completeResponse(r, body);
  send(r.incomplete ? 'response.incomplete' : 'response.completed', { response: final });
  res.end();
}
