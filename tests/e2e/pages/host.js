// The host page's own script: proves the page keeps working whatever the widget does.
document.getElementById('host-button').addEventListener('click', function () {
  document.getElementById('host-content').textContent = 'Host page still works.';
});
