import{A as e,n}from"./index-Cpsv7i9h.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
