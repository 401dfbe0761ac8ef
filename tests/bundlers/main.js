// The app every bundler builds: the package as npm installs it, French, shown at once.
import init, { NpsWidget } from 'nps-widget';

await init();
const nps = NpsWidget.create({ endpoint: '/v1/responses', product: 'Acme', locale: 'fr', force: true });
nps.on('complete', (response) => {
  window.completed = response;
});
window.started = true;
