import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { pickApi } from './api';
import { setApi } from './api/current';
import { useAppStore } from './stores/app';
import './styles/main.css';
// After main.css, so its narrow-window rules win.
import './styles/responsive.css';

const pinia = createPinia();
const app = createApp(App).use(pinia);
setApi(pickApi((connected) => {
  useAppStore(pinia).connected = connected;
}));
app.mount('#app');
