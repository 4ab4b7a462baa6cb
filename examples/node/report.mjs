// Gets a token and prints the supplies report, paging through data.navigation.next.
//
// By default it starts the local mock Cedato server; set CEDATO_BASE_URL,
// CEDATO_CLIENT_ID and CEDATO_CLIENT_SECRET to use the real API instead.
import { CedatoAuth } from "../../pkg/node.mjs";
import { startMockServer } from "../../tests/mock/server.mjs";

const real = Boolean(process.env.CEDATO_CLIENT_ID);
const mock = real ? null : await startMockServer({ port: 0 });
const auth = new CedatoAuth({
  clientId: process.env.CEDATO_CLIENT_ID ?? "demo-client",
  clientSecret: process.env.CEDATO_CLIENT_SECRET ?? "demo-secret",
  baseUrl: process.env.CEDATO_BASE_URL ?? mock?.baseUrl,
});

try {
  const token = await auth.getToken();
  const masked = `${token.slice(0, 4)}…${token.slice(-4)}`;
  console.log(`token ${masked}, expires ${new Date(auth.expiresAt).toISOString()} (${real ? "Cedato API" : "local mock " + mock.baseUrl})`);

  const rows = [];
  let page = await auth.request("reports/supplies/extended", {
    query: { start: "2024-01-01", end: "2024-01-07", limit: 20 },
  });
  for (;;) {
    rows.push(...page.data.supplies);
    const next = page.data.navigation?.next;
    if (!next) break;
    page = await auth.request(next); // same origin as baseUrl: the token may go there
  }
  console.log(`supplies report: ${rows.length} rows`);
  console.table(rows.slice(0, 10).map((r) => ({
    id: r.supply_id, supply: r.supply_name, impressions: r.impressions, revenue: r.revenue, ecpm: r.ecpm,
  })));
  if (rows.length > 10) console.log(`… and ${rows.length - 10} more`);
} catch (err) {
  console.error(`failed: ${err.code ?? ""} ${err.message}`);
  process.exitCode = 1;
} finally {
  auth.free();
  await mock?.close();
}
