// The hosted survey page of a personal link (/s/<token>): the real widget, inline and full
// width, started only once the page is shown in a visible tab. A mail scanner that fetches
// the link, or opens it in a hidden tab, records nothing: the GET itself never does.
// The page's data comes in a JSON block (never run); the person is known from the link, so
// the collector sets the response's user whatever the page sends.

const data = JSON.parse(document.getElementById('nps-link').textContent);

/** ?score=N from an email button: a whole number from 0 to 10, or nothing. */
function scoreFromUrl() {
  const text = new URLSearchParams(location.search).get('score');
  if (text === null || !/^(?:[0-9]|10)$/.test(text)) {
    return null;
  }
  return Number(text);
}

function whenVisible(run) {
  if (document.visibilityState === 'visible') {
    run();
    return;
  }
  const onChange = () => {
    if (document.visibilityState === 'visible') {
      document.removeEventListener('visibilitychange', onChange);
      run();
    }
  };
  document.addEventListener('visibilitychange', onChange);
}

function say(text) {
  const wait = document.getElementById('nps-wait');
  wait.textContent = text;
  wait.hidden = false;
}

async function start() {
  try {
    const { default: init, NpsWidget } = await import('/nps_widget.js');
    await init();
    const config = {
      endpoint: data.endpoint,
      product: data.product,
      survey_id: data.survey_id,
      position: 'inline',
      target: '#nps',
      trigger: 'manual',
      force: true,
      include_query: false,
    };
    if (data.locale) {
      config.locale = data.locale;
    }
    const score = scoreFromUrl() ?? data.score ?? null;
    if (score !== null) {
      config.score = score;
    }
    const widget = NpsWidget.create(config);
    widget.on('error', (e) => say(e.message));
    widget.show({ force: true });
    document.getElementById('nps-wait').hidden = true;
  } catch (e) {
    say('The survey could not start here: ' + e.message);
  }
}

whenVisible(start);
