#!/usr/bin/env node
// Dev-only launcher for @vercel/cosmosdb-server (pinned in package.json).
//
// The pinned server answers a point read of a missing document with a 500 ("Cannot read
// properties of undefined") instead of Cosmos DB's 404. The real service returns 404, and the
// app relies on it, so this launcher answers 404 for that case before the server's own handler
// runs; everything else is the server unchanged, except that connections are kept alive.
"use strict";

const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const { parsePartitionKey } = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");

const serverRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  if (collection.read()) {
    const header = req.headers["x-ms-documentdb-partitionkey"];
    let partition = params.docId;
    if (header) {
      try {
        partition = parsePartitionKey(header, params.docId);
      } catch (error) {
        partition = params.docId;
      }
    }
    if (!collection.document(params.docId, partition).read()) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
  }
  return serverRead(account, req, res, params);
};

// Loaded after the patch so the route table picks up the handler above.
const { createHttpsServer } = require("@vercel/cosmosdb-server");

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 && index + 1 < args.length ? args[index + 1] : fallback;
};
const port = parseInt(option("-p", option("--port", "8081")), 10);
const host = option("--host", "127.0.0.1");

// Keep-alive: without it the server answers every request with `connection: close`, so each SDK call
// opens a new TLS connection (~30 ms of CPU in the client alone).
const server = createHttpsServer({ keepAlive: true }).listen(port, host, () => {
  console.log(`Ready to accept HTTPS connections at ${host}:${port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
