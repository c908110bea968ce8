// Package watch delivers MVCC events to watchers.
//
// The Hub receives the events of every published revision from the applier
// (OnRevision, which never blocks) and fans them out to the watchers that
// are synced, i.e. that have seen every revision up to the newest. Each
// watcher has its own bounded queue of responses. A watcher whose queue
// overflows, or that starts from a past revision, is unsynced: a background
// catch-up loop reads its events from the store's change log, a bounded
// batch at a time and only once its queue has drained, and moves it back to
// the synced set when it reaches the newest revision. So a slow consumer
// never blocks the applier or any other watcher, and memory per watcher is
// bounded.
//
// A Stream groups the watchers of one client stream. Its Next method hands
// the gRPC sender one response at a time, taking watchers in turn so that
// one busy watcher cannot starve the others on the same stream.
//
// Guarantees, per watcher: events in revision order, each revision at most
// once and with no gaps, all events of one revision in one response (unless
// the client asked for fragments), the created response before any event.
//
// Lock order: Hub.mu, then Stream.mu.
package watch
