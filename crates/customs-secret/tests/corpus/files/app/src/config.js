'use strict';

module.exports = {
  firebase: { apiKey: 'AIzaL7Az6aG9lpy8MUM@@bmtO5ZJkuoykGHUPwyfM', authDomain: 'acme-shop.firebaseapp.com' },
  retries: 3,
  legacySlackToken: 'xoxs-1631107714-711308823138-v@@tkLfuiMuSI7v0ULAyBBsZVxiuky7NSb',
  region: 'eu-west-1',
  newRelic: { licenseKey: 'NRJS-e222231@@7edec43df15f' },
  debug: false,
  airtable: { token: 'patkpVblEIhx6RtSF.7af3f174311b7881bbe2b30@@64f34271c565b9dfcaff02388100ee53ef42dedd7' },
  retries: 3,
  mapboxUploadToken: 'sk.eyJ1IjoiYWNtZS-BD4d8PZEd9JCdCdz4kiLeUoIHmsyakUn@@xU-d07S4kYR9isrDj8opjEgXsGB.DBigDTjOWsURoOH7sK3sK0',
  region: 'eu-west-1',
};
