// The delivery contract on the in-process bus (the embedded default), with the real Postgres.
import { InProcessBus } from '../../src/index.js';
import { runBusContract } from './bus-contract.js';

runBusContract('in-process bus', async () => {
  const bus = new InProcessBus({ redeliveryBackoff: { initialMs: 10, maxMs: 200 } });
  return {
    bus,
    async createTopics(topics, partitions) {
      for (const topic of topics) {
        bus.ensureTopic(topic, partitions);
        bus.ensureTopic(`${topic}.dlq`, partitions);
      }
    },
    close: () => bus.close(),
  };
});
