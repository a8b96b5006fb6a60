// A stored Response (a cache hit) replayed to a streaming client as the event sequence an
// upstream would have sent: each message's text as one delta, each function call's arguments
// as one delta, then the terminal event. Ids and usage are the stored ones.
import { readResponsesUsage, ResponseBuilder, sseFrame, type ResponsesEvent } from './builder.js';

type Obj = Record<string, any>;

export function responseAsStream(bodyText: string): { frames: string; terminal: string } {
  const r = JSON.parse(bodyText) as Obj;
  const b = new ResponseBuilder(String(r.id), Number(r.created_at) || Math.floor(Date.now() / 1000), String(r.model), r);
  const events: ResponsesEvent[] = b.start();
  for (const item of (Array.isArray(r.output) ? r.output : []) as Obj[]) {
    if (item.type === 'message') {
      const text = (Array.isArray(item.content) ? item.content : []).map((p: Obj) => (typeof p.text === 'string' ? p.text : '')).join('');
      events.push(...b.text(text, item.id));
    } else if (item.type === 'function_call') {
      events.push(...b.callStart(String(item.call_id), String(item.name), item.id));
      events.push(...b.callArgs(typeof item.arguments === 'string' ? item.arguments : ''));
    }
  }
  events.push(...b.finish(r.status === 'incomplete', readResponsesUsage(r.usage)));
  const terminal = events.pop()!;
  return { frames: events.map(sseFrame).join(''), terminal: sseFrame(terminal) };
}
