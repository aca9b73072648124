// Command cairn runs Cairn, an observability backend: receivers, Kafka
// writers and the query API, in one process or apart.
//
//	cairn serve    run the roles against existing Kafka and ClickHouse
//	cairn dev      run everything locally, Kafka and ClickHouse included
//	cairn migrate  create or upgrade the ClickHouse schema
//	cairn agent    collect this host's metrics and push them to Cairn
//	cairn version  print the version
//
// This package is wiring only: it parses flags, builds each component
// from its package and runs them under one errgroup. Nothing imports it.
package main
