import {
  type BicepFile,
  fileAt,
  literalString,
  literalStrings,
  loadInfra,
  prop,
  resourcesOfType,
} from './bicep';

let files: Map<string, BicepFile>;
let subscriptionFile: BicepFile;

beforeAll(async () => {
  files = await loadInfra();
  subscriptionFile = fileAt(files, 'infra/eventgrid-subscription.bicep');
});

function eventSubscription() {
  const found = resourcesOfType(files.values(), 'Microsoft.EventGrid/systemTopics/eventSubscriptions');
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('Event Grid delivers completed bronze landing writes to the Function', () => {
  test('when the system topic is declared, then it publishes the bronze lake account events', () => {
    const topicFile = fileAt(files, 'infra/modules/event-grid-topic.bicep');
    const topic = topicFile.resources.find((r) => r.type === 'Microsoft.EventGrid/systemTopics');
    const main = fileAt(files, 'infra/main.bicep');
    const module = main.modules.find((m) => m.source === 'modules/event-grid-topic.bicep');

    expect(literalString(topicFile, prop(topic?.body, 'properties.topicType'))).toBe(
      'Microsoft.Storage.StorageAccounts',
    );
    expect(prop(module?.body, 'params.storageAccountId')?.text).toBe('lake.outputs.id');
    expect(prop(topic?.body, 'identity.type')?.text).toBe("'SystemAssigned'");
  });

  test('when events are filtered, then only BlobCreated under bronze/landing/ passes', () => {
    const { file, resource } = eventSubscription();
    const filter = prop(resource.body, 'properties.filter');

    expect(literalString(file, prop(filter, 'subjectBeginsWith'))).toBe(
      '/blobServices/default/containers/bronze/blobs/landing/',
    );
    expect(literalStrings(file, prop(filter, 'includedEventTypes'))).toEqual([
      'Microsoft.Storage.BlobCreated',
    ]);
  });

  test('when events are filtered, then data.api must be one of the completed-write APIs', () => {
    const { file, resource } = eventSubscription();
    const filters = prop(resource.body, 'properties.filter.advancedFilters');
    const apiFilter =
      filters?.kind === 'array'
        ? filters.items.find((f) => literalString(file, prop(f, 'key')) === 'data.api')
        : undefined;

    expect(literalString(file, prop(apiFilter, 'operatorType'))).toBe('StringIn');
    expect(literalStrings(file, prop(apiFilter, 'values'))?.sort()).toEqual(
      ['CopyBlob', 'FlushWithClose', 'PutBlob', 'PutBlockList', 'SftpCommit'].sort(),
    );
    expect(literalStrings(file, prop(apiFilter, 'values'))).not.toContain('CreateFile');
  });

  test('when delivery keeps failing, then events are retried and then dead-lettered to the dead-letter container', () => {
    const { file, resource } = eventSubscription();
    const deadLetter = prop(resource.body, 'properties.deadLetterWithResourceIdentity');

    expect(prop(resource.body, 'properties.retryPolicy.maxDeliveryAttempts')?.text).toBe(
      'maxDeliveryAttempts',
    );
    expect(prop(resource.body, 'properties.retryPolicy.eventTimeToLiveInMinutes')?.text).toBe(
      'eventTimeToLiveInMinutes',
    );
    expect(literalString(file, prop(deadLetter, 'deadLetterDestination.endpointType'))).toBe('StorageBlob');
    expect(literalString(file, prop(deadLetter, 'deadLetterDestination.properties.blobContainerName'))).toBe(
      literalString(
        fileAt(files, 'infra/main.bicep'),
        fileAt(files, 'infra/main.bicep').vars.get('deadLetterContainerName'),
      ),
    );
    expect(prop(deadLetter, 'deadLetterDestination.properties.resourceId')?.text).toBe(
      'deadLetterAccount.id',
    );
  });

  test('when the webhook is built, then it targets bronzeBlobCreated with the eventgrid_extension system key read inside ARM', () => {
    const { file, resource } = eventSubscription();
    const url = prop(resource.body, 'properties.destination.properties.endpointUrl');

    expect(literalString(file, prop(resource.body, 'properties.destination.endpointType'))).toBe('WebHook');
    expect(url?.text).toContain(
      '/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}',
    );
    expect(literalString(file, subscriptionFile.params.get('functionName')?.defaultValue)).toBe(
      'bronzeBlobCreated',
    );
    expect(file.vars.get('eventGridExtensionKey')?.text).toContain('.systemKeys.eventgrid_extension');
  });

  test('when the platform is provisioned, then the subscription is not part of main.bicep (it needs deployed code)', () => {
    const main = fileAt(files, 'infra/main.bicep');

    expect(main.source).not.toMatch(/eventSubscriptions/);
    expect(main.modules.map((m) => m.source)).not.toContain('eventgrid-subscription.bicep');
  });
});

describe('lost events are alerted on', () => {
  test('when Event Grid dead-letters or drops an event, then a metric alert on the system topic fires for each metric, above zero', () => {
    const topicFile = fileAt(files, 'infra/modules/event-grid-topic.bicep');
    const alerts = resourcesOfType([topicFile], 'Microsoft.Insights/metricAlerts');

    expect(alerts).toHaveLength(1);
    const { resource } = alerts[0]!;
    expect(resource.loop).toBe(true);
    expect(literalStrings(topicFile, topicFile.vars.get('lostEventMetrics'))).toEqual([
      'DeadLetteredCount',
      'DroppedEventCount',
    ]);
    expect(prop(resource.body, 'properties.scopes')?.text).toBe('[systemTopic.id]');
    expect(prop(resource.body, 'properties.enabled')?.text).toBe('true');
    const criterion = prop(resource.body, 'properties.criteria.allOf');
    expect(criterion?.text).toContain('metricName: metric');
    expect(criterion?.text).toContain("operator: 'GreaterThan'");
    expect(criterion?.text).toContain('threshold: 0');
  });
});
